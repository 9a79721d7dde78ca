package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// permanentError is a failure that retrying cannot fix (no credential, a refused address, an
// SMS template the provider does not know): the delivery is dead at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// DeliverReport counts a pass of Deliver.
type DeliverReport struct {
	Sent, Failed, Dead, Held int
}

// Deliver sends the tenant's due deliveries (at most limit): each is claimed (leased, so that a
// worker that dies leaves it to the next pass), sent, then marked sent, or retried after
// outbox's backoff, or dead. SMS and WeChat deliveries falling into quiet hours are held until
// they end. Every email and SMS sent is recorded on the tenant's meters with the delivery as
// idempotency key.
func (s *Service) Deliver(ctx context.Context, usage module.Usage, limit int) (DeliverReport, error) {
	var rep DeliverReport
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		_, _, err := tenants.Admit(ctx, tenants.Write)
		return rep, err
	}
	now := s.now()
	var ds []*delivery
	var st *Settings
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var err error
		if st, err = findSettings(ctx, db); err != nil {
			return err
		}
		nowMS := now.UnixMilli()
		return dbx.Translate(db.NewRaw(`UPDATE notify_deliveries SET lease_until = ?
			WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? AND id IN (
				SELECT id FROM notify_deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING *`, now.Add(s.policy.Lease).UnixMilli(), nowMS, nowMS, nowMS, nowMS, limit).Scan(ctx, &ds))
	})
	if err != nil {
		return rep, errorf("claiming deliveries", err)
	}
	for _, d := range ds {
		if ctx.Err() != nil {
			break
		}
		if d.Channel == ChannelSMS || d.Channel == ChannelWeCom {
			if q, end := st.quiet(now); q {
				rep.Held++
				if err := s.finish(ctx, d, "held", end, ""); err != nil {
					return rep, err
				}
				continue
			}
		}
		sendErr := s.send(ctx, sc.Tenant, st, d)
		if sendErr == nil {
			rep.Sent++
			if err := s.finish(ctx, d, outbox.Done, now, ""); err != nil {
				return rep, err
			}
			if usage != nil {
				meter := ""
				switch d.Channel {
				case ChannelEmail:
					meter = MeterEmails
				case ChannelSMS:
					meter = billing.MeterSMS
				}
				if meter != "" {
					if err := usage.Record(ctx, sc.Tenant.ID, meter, 1, fmt.Sprintf("notify:%s:%d", d.Channel, d.ID)); err != nil {
						s.log.Warn("notify: recording usage", "tenant", sc.Tenant.Slug, "delivery", d.ID, "err", err)
					}
				}
			}
			continue
		}
		d.Attempts++
		var pe permanentError
		status := outbox.Pending
		next := now.Add(s.policy.Backoff(d.Attempts))
		if s.policy.Dead(d.Attempts, errors.As(sendErr, &pe)) {
			status = outbox.Dead
			rep.Dead++
		} else {
			rep.Failed++
		}
		s.log.Warn("notify: delivery failed", "tenant", sc.Tenant.Slug, "delivery", d.ID, "channel", d.Channel, "attempts", d.Attempts, "status", status, "err", sendErr)
		if err := s.finish(ctx, d, status, next, sendErr.Error()); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// finish records a claimed delivery's outcome: sent (done), held until next (quiet hours: no
// attempt counted), retried at next, or dead.
func (s *Service) finish(ctx context.Context, d *delivery, status string, next time.Time, lastErr string) error {
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		q := db.NewUpdate().Table("notify_deliveries").Where("id = ?", d.ID).Set("lease_until = 0")
		switch status {
		case outbox.Done:
			q = q.Set("status = ?, sent_at = ?, last_error = ''", outbox.Done, next.UnixMilli())
		case "held":
			q = q.Set("next_attempt_at = ?", next.UnixMilli())
		default:
			if len(lastErr) > 500 {
				lastErr = lastErr[:500]
			}
			q = q.Set("status = ?, attempts = ?, next_attempt_at = ?, last_error = ?", status, d.Attempts, next.UnixMilli(), strings.ToValidUTF8(lastErr, ""))
		}
		_, err := q.Exec(ctx)
		return dbx.Translate(err)
	})
}

// send sends one delivery by its channel.
func (s *Service) send(ctx context.Context, t *tenants.Tenant, st *Settings, d *delivery) error {
	switch d.Channel {
	case ChannelEmail:
		cfg := s.smtp
		if st.SMTPHost != "" {
			cfg = SMTP{Host: st.SMTPHost, Port: st.SMTPPort, TLS: st.SMTPTLS, Username: st.SMTPUsername, From: st.SMTPFrom}
			if st.SMTPUsername != "" {
				pw, err := s.credential(ctx, t, CredentialSMTP)
				if err != nil {
					return err
				}
				cfg.Password = pw
			}
		}
		return sendMail(ctx, cfg, d.Target, d.Subject, d.Body, fmt.Sprintf("<notify-%s-%d@%s>", t.Slug, d.ID, hostOf(cfg.From)))
	case ChannelWeCom:
		key := ""
		if d.Target != "" {
			key, _ = s.credential(ctx, t, CredentialWeCom+"_"+strings.ToLower(d.Target))
		}
		if key == "" {
			var err error
			if key, err = s.credential(ctx, t, CredentialWeCom); err != nil {
				return err
			}
		}
		return s.sendWeCom(ctx, key, d.Body)
	case ChannelSMS:
		if s.sms == nil {
			return permanent(errors.New("no SMS provider"))
		}
		key, err := s.credential(ctx, t, CredentialSMS)
		if err != nil {
			return err
		}
		id, secret, ok := strings.Cut(key, ":")
		if !ok {
			return permanent(fmt.Errorf("credential %s is not <AccessKeyId>:<AccessKeySecret>", CredentialSMS))
		}
		return s.sms.Send(ctx, SMS{AccessKeyID: id, AccessKeySecret: secret, Phone: d.Target, SignName: st.SMSSignName,
			TemplateCode: st.SMSTemplate, TemplateParam: d.Params, OutID: fmt.Sprintf("%s-%d", t.Slug, d.ID)})
	}
	return permanent(fmt.Errorf("unknown channel %q", d.Channel))
}

// credential reads a credential; none is a permanent failure.
func (s *Service) credential(ctx context.Context, t *tenants.Tenant, name string) (string, error) {
	if s.creds == nil {
		return "", permanent(fmt.Errorf("no secret store for credential %s", name))
	}
	v, err := s.creds.Credential(ctx, t.ID, name)
	if errs.Is(err, errs.NotFound) {
		return "", permanent(fmt.Errorf("no credential %s (cityops credentials set %s %s)", name, t.Slug, name))
	}
	if err != nil {
		return "", err
	}
	return v.Reveal(), nil
}

func hostOf(addr string) string {
	if _, h, ok := strings.Cut(addr, "@"); ok {
		return strings.Trim(h, "> ")
	}
	return "cityops"
}
