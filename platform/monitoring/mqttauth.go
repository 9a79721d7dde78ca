package monitoring

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Mosquitto's password hash ($7$): PBKDF2-HMAC-SHA512 with 101 iterations, a 12-byte salt and
// a 64-byte key, salt and key in standard base64 (what mosquitto_passwd writes).
const (
	mosquittoIterations = 101
	mosquittoSalt       = 12
	mosquittoKey        = 64
)

// MosquittoHash returns password hashed for a Mosquitto password file: $7$101$salt$hash.
func MosquittoHash(password string) string {
	salt := make([]byte, mosquittoSalt)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha512.New, password, salt, mosquittoIterations, mosquittoKey)
	if err != nil {
		panic(err) // only for parameters FIPS mode refuses; these are fixed
	}
	return fmt.Sprintf("$7$%d$%s$%s", mosquittoIterations, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(key))
}

// MQTTUsername is a device's user name at the broker: {tenant slug}.{device code}. A slug holds
// no '.', so the first '.' splits it; neither holds '/', '+', '#' or ':'.
func MQTTUsername(slug, code string) string { return slug + "." + code }

// MQTTAuthReport is what WriteMQTTAuth wrote.
type MQTTAuthReport struct {
	Tenants, Devices int
	// Missing are the devices (tenant.device) with no MQTT password yet: their token was made
	// before MQTT; rotating it makes one.
	Missing []string
}

// WriteMQTTAuth writes the broker's password file (dir/passwd) and ACL file (dir/acl) for the
// devices of the tenant of slug ("": every active tenant whose plan has monitoring): each device
// user {slug}.{code} with its token's hash may publish to its own readings topic only; the app's
// user (MQTT Username, with its password's hash when Password is set) may read every readings
// topic. The files are replaced whole (written aside, then renamed); the password file is
// readable by its owner only.
func (s *Service) WriteMQTTAuth(ctx context.Context, k module.Kit, slug, dir string) (*MQTTAuthReport, error) {
	var ts []*tenants.Tenant
	if slug != "" {
		t, err := k.Store.FindTenantBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		ts = []*tenants.Tenant{t}
	} else {
		all, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if on, err := k.Entitled(ctx, t, Entitlement); err != nil {
				return nil, err
			} else if on {
				ts = append(ts, t)
			}
		}
	}
	var pw, acl strings.Builder
	acl.WriteString("# Written by `cityops monitoring mqtt-auth`: each device may publish to its own readings topic only.\n")
	if s.mqtt.Username != "" {
		if s.mqtt.Password != "" {
			fmt.Fprintf(&pw, "%s:%s\n", s.mqtt.Username, MosquittoHash(s.mqtt.Password))
		}
		fmt.Fprintf(&acl, "\nuser %s\ntopic read %s/+/+/readings\n", s.mqtt.Username, TopicRoot)
	}
	rep := &MQTTAuthReport{Tenants: len(ts)}
	for _, t := range ts {
		var ds []Device
		err := s.gate.Tx(tenants.WithScope(ctx, tenants.SystemScope(t)), tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().Model(&ds).Column("code", "mqtt_hash").Order("code").Scan(ctx)
		})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.MQTTHash == nil || *d.MQTTHash == "" {
				rep.Missing = append(rep.Missing, t.Slug+"."+d.Code)
				continue
			}
			u := MQTTUsername(t.Slug, d.Code)
			fmt.Fprintf(&pw, "%s:%s\n", u, *d.MQTTHash)
			fmt.Fprintf(&acl, "\nuser %s\ntopic write %s\n", u, Topic(t.Slug, d.Code))
			rep.Devices++
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name, text string
		mode       os.FileMode
	}{{"passwd", pw.String(), 0o600}, {"acl", acl.String(), 0o644}} {
		if err := replaceFile(filepath.Join(dir, f.name), f.text, f.mode); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// replaceFile writes text to path through a file beside it renamed over it.
func replaceFile(path, text string, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// mqttAuthCommand is the export's command-line registration.
var mqttAuthCommand = module.Command{Use: "mqtt-auth <dir>", Args: 1,
	Short: "write the MQTT broker's password file (dir/passwd) and ACL file (dir/acl) for the devices (Mosquitto format)",
	Flags: []module.Flag{{Name: "tenant", Usage: "only this tenant's devices (default: every active tenant whose plan has monitoring)"}}}

func (s *Service) runMQTTAuth(ctx context.Context, k module.Kit, args []string, out io.Writer) error {
	if args[1] != "" {
		if err := tenants.ValidateSlug(args[1]); err != nil {
			return errs.E(errs.Invalid, msgNoTenant, args[1])
		}
	}
	rep, err := s.WriteMQTTAuth(ctx, k, args[1], args[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(out, msgMQTTAuthWritten.In(msg.EN, rep.Devices, rep.Tenants, filepath.Join(args[0], "passwd"), filepath.Join(args[0], "acl")))
	if len(rep.Missing) > 0 {
		fmt.Fprintln(out, msgMQTTAuthMissing.In(msg.EN, len(rep.Missing), strings.Join(rep.Missing, ", ")))
	}
	return nil
}
