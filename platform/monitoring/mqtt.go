package monitoring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/uptrace/bun"
)

// TopicRoot is the first level of every readings topic: cityops/{tenant}/{device}/readings.
const TopicRoot = "cityops"

// Topic is the topic the device code of the tenant slug publishes its readings to.
func Topic(slug, code string) string { return TopicRoot + "/" + slug + "/" + code + "/readings" }

// MQTT configures the ingest over MQTT. An empty URL turns it off: the ingest is HTTP only.
type MQTT struct {
	// URL is the broker's: tcp://host:1883, ssl://host:8883 or ws://host:port/path.
	URL string
	// Username and Password are the app's own credentials at the broker (it reads every
	// tenant's readings topics).
	Username, Password string
	// ClientID names the app's session at the broker; it must stay the same from one start to
	// the next (the broker keeps the session's messages while the app is away) and differ
	// between replicas.
	ClientID string
	// ShareGroup, when set, subscribes through $share/{ShareGroup}/…: the replicas of one group
	// share the readings, each message going to one of them.
	ShareGroup string
	// FlushEvery and FlushReadings bound how long and how many readings the consumer gathers
	// before it writes them (one tenant transaction per tenant); Queue is how many messages wait
	// between the client and the batcher. Zero: 50 ms, 5,000 readings, 10,000 messages.
	FlushEvery    time.Duration
	FlushReadings int
	Queue         int
}

// Filter is the consumer's subscription.
func (m MQTT) Filter() string {
	f := TopicRoot + "/+/+/readings"
	if m.ShareGroup != "" {
		f = "$share/" + m.ShareGroup + "/" + f
	}
	return f
}

// The outcomes of MQTT messages, as counted on cityops_monitoring_mqtt_messages_total.
const (
	mqttTaken         = "taken"          // written (its readings accepted or rejected one by one)
	mqttDuplicate     = "duplicate"      // its batch was taken before: nothing written
	mqttBadTopic      = "bad_topic"      // not cityops/{tenant}/{device}/readings
	mqttMalformed     = "malformed"      // not a batch (JSON, types, NUL characters, batch id, size)
	mqttUnknownTenant = "unknown_tenant" // no live tenant of the topic's slug
	mqttNotEntitled   = "not_entitled"   // the tenant's plan lacks monitoring
	mqttUnknownDevice = "unknown_device" // the tenant has no device of the topic's code
	mqttRefused       = "refused"        // the tenant's data refuses writes (suspended)
)

// consumer takes readings from the broker: the client's handler queues every message (in), the
// batcher decodes them and gathers them per tenant, and the writer writes each gathered batch,
// one tenant transaction per tenant, acknowledging the messages only after the commit. A
// database error acknowledges nothing: the writer tries again, with a backoff, and the broker
// keeps the rest of the messages in the session meanwhile.
type consumer struct {
	s   *Service
	k   module.Kit
	cfg MQTT
	log *slog.Logger

	in      chan inbound
	batches chan *gathered
	acks    chan []message // written: to acknowledge
	stop    chan struct{}

	tenants map[string]tenantEntry // by slug; the writer's alone

	subscribed     chan struct{} // closed at the first subscription
	subscribedOnce sync.Once

	// beforeAck, when set (tests), runs after a batch is committed and before its messages are
	// acknowledged; false skips the acknowledgements, as if the process died there.
	beforeAck func() bool
}

// inbound is a message off the wire.
type inbound struct {
	topic   string
	payload []byte
	ack     func()
}

// message is a decoded message of a device.
type message struct {
	code  string
	batch Batch
	ack   func()
}

// gathered are the messages of one flush, by tenant slug.
type gathered struct {
	by       map[string][]message
	readings int
	n        int
}

type tenantEntry struct {
	t        *tenants.Tenant // nil: no live tenant of that slug
	entitled bool
	until    time.Time
}

// tenantTTL is how long the consumer trusts what it found of a tenant (live, plan).
const tenantTTL = 30 * time.Second

func newConsumer(s *Service, k module.Kit, cfg MQTT) *consumer {
	if cfg.ClientID == "" {
		cfg.ClientID = "cityops-ingest"
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 50 * time.Millisecond
	}
	if cfg.FlushReadings <= 0 {
		cfg.FlushReadings = 5000
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 10_000
	}
	log := k.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &consumer{s: s, k: k, cfg: cfg, log: log.With("component", "mqtt"), tenants: map[string]tenantEntry{}, subscribed: make(chan struct{})}
}

// Run consumes until ctx ends: it connects (and reconnects) with a persistent session and the
// fixed client id, subscribes at QoS 1, and writes what arrives. Messages not yet written when
// ctx ends are not acknowledged: the broker sends them again to the next run.
func (c *consumer) Run(ctx context.Context) error {
	c.in = make(chan inbound, c.cfg.Queue)
	c.batches = make(chan *gathered, 1)
	c.acks = make(chan []message, 4)
	c.stop = make(chan struct{})
	opts := mqtt.NewClientOptions().AddBroker(c.cfg.URL).SetClientID(c.cfg.ClientID).
		SetCleanSession(false).SetAutoAckDisabled(true).SetOrderMatters(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).SetKeepAlive(30 * time.Second).
		SetDefaultPublishHandler(c.receive)
	if c.cfg.Username != "" {
		opts.SetUsername(c.cfg.Username).SetPassword(c.cfg.Password)
	}
	filter := c.cfg.Filter()
	opts.SetOnConnectHandler(func(cl mqtt.Client) {
		// The session keeps the subscription; subscribing again at every connection also makes
		// it after the broker lost its state. Messages go to the default handler (receive).
		go func() {
			for {
				t := cl.Subscribe(filter, 1, nil)
				ok := t.WaitTimeout(30*time.Second) && t.Error() == nil
				if st, is := t.(*mqtt.SubscribeToken); ok && is && st.Result()[filter] == 0x80 {
					ok = false // the broker refused it (its ACL)
				}
				if ok {
					break
				}
				c.log.Error("mqtt: subscribing; trying again", "filter", filter, "err", t.Error())
				select {
				case <-c.stop:
					return
				case <-time.After(5 * time.Second):
				}
				if !cl.IsConnected() {
					return // the next connection subscribes
				}
			}
			c.subscribedOnce.Do(func() { close(c.subscribed) })
			c.log.Info("mqtt: connected and subscribed", "broker", c.cfg.URL, "client_id", c.cfg.ClientID, "filter", filter)
		}()
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		c.log.Warn("mqtt: connection lost; reconnecting", "broker", c.cfg.URL, "err", err)
	})
	cl := mqtt.NewClient(opts)
	cl.Connect() // with ConnectRetry it keeps trying in the background
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.batch(ctx) }()
	go func() { defer wg.Done(); c.write(ctx) }()
	go func() { defer wg.Done(); c.acknowledge() }()
	<-ctx.Done()
	close(c.stop)
	wg.Wait()
	cl.Disconnect(250)
	return nil
}

// receive is the client's handler: it queues the message, blocking while the queue is full (so
// the broker holds the rest), or drops it unacknowledged when the consumer stops.
func (c *consumer) receive(_ mqtt.Client, m mqtt.Message) {
	select {
	case c.in <- inbound{topic: m.Topic(), payload: m.Payload(), ack: m.Ack}:
	case <-c.stop:
	}
}

// batch decodes the queued messages and hands them to the writer per flush: FlushEvery after
// the first message, or at FlushReadings readings. While the writer is busy, messages go on
// being gathered (up to FlushReadings), so a slow write makes the next flush bigger, not later.
func (c *consumer) batch(ctx context.Context) {
	g := &gathered{by: map[string][]message{}}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	due := false
	for {
		var tick <-chan time.Time
		if g.n > 0 && !due {
			tick = timer.C
		}
		var out chan<- *gathered
		in := c.in
		if due {
			out = c.batches
		}
		if g.readings >= c.cfg.FlushReadings {
			in = nil // full: wait for the writer
		}
		select {
		case <-ctx.Done():
			return
		case out <- g:
			g, due = &gathered{by: map[string][]message{}}, false
		case <-tick:
			due = true
		case m := <-in:
			slug, msg, ok := c.decode(m)
			if !ok {
				m.ack()
				continue
			}
			if g.n == 0 {
				timer.Reset(c.cfg.FlushEvery)
			}
			g.by[slug] = append(g.by[slug], msg)
			g.n++
			g.readings += len(msg.batch.Readings)
			if g.readings >= c.cfg.FlushReadings {
				timer.Stop()
				due = true
			}
		}
	}
}

// decode reads a message's tenant and device from its topic and its batch from its payload,
// as the HTTP ingest reads a request (module.UnmarshalJSON, checkBatch). A batch without an id
// gets the hash of the payload as its id, so that the same message sent again is taken once.
// What cannot be a batch is counted, and not ok.
func (c *consumer) decode(in inbound) (slug string, m message, ok bool) {
	parts := strings.Split(in.topic, "/")
	if len(parts) != 4 || parts[0] != TopicRoot || parts[3] != "readings" || tenants.ValidateSlug(parts[1]) != nil || !validCode(parts[2]) {
		c.s.stats.mqtt.WithLabelValues(mqttBadTopic).Inc()
		return "", m, false
	}
	if len(in.payload) > module.MaxJSONBody {
		c.s.stats.mqtt.WithLabelValues(mqttMalformed).Inc()
		return "", m, false
	}
	m.code, m.ack = parts[2], in.ack
	if err := module.UnmarshalJSON(in.payload, &m.batch); err != nil || checkBatch(m.batch) != nil {
		c.s.stats.mqtt.WithLabelValues(mqttMalformed).Inc()
		return "", m, false
	}
	if m.batch.Batch == "" {
		sum := sha256.Sum256(in.payload)
		m.batch.Batch = "sha256-" + hex.EncodeToString(sum[:24])
	}
	return parts[1], m, true
}

// write writes each flush, tenant by tenant, and acknowledges its messages after the commit.
// A tenant whose write fails is tried again, with a backoff from 100 ms doubling up to 30 s,
// until it is written or the consumer stops (its messages then come again to the next run).
func (c *consumer) write(ctx context.Context) {
	for {
		var g *gathered
		select {
		case <-ctx.Done():
			return
		case g = <-c.batches:
		}
		slugs := make([]string, 0, len(g.by))
		for slug := range g.by {
			slugs = append(slugs, slug)
		}
		slices.Sort(slugs)
		t0 := time.Now()
		for _, slug := range slugs {
			for wait := 100 * time.Millisecond; ; wait = min(2*wait, 30*time.Second) {
				err := c.writeTenant(ctx, slug, g.by[slug])
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				c.log.Error("mqtt: writing readings; trying again", "tenant", slug, "messages", len(g.by[slug]), "in", wait, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		c.log.Debug("mqtt: written", "messages", g.n, "readings", g.readings, "took", time.Since(t0))
	}
}

// writeTenant writes the messages of one tenant in one tenant transaction (writeBatches) and
// then acknowledges them. Messages of an unknown tenant or device, or of a tenant whose plan
// lacks monitoring, are counted and acknowledged. An error means nothing was acknowledged.
func (c *consumer) writeTenant(ctx context.Context, slug string, ms []message) error {
	t, entitled, err := c.tenant(ctx, slug)
	if err != nil {
		return err
	}
	switch {
	case t == nil:
		c.done(ctx, ms, mqttUnknownTenant, len(ms))
		return nil
	case !entitled:
		c.done(ctx, ms, mqttNotEntitled, len(ms))
		return nil
	}
	now := c.s.now()
	var bs []*deviceBatch
	var unknown, unknownReadings int
	err = c.s.gate.Tx(tenants.WithScope(ctx, tenants.SystemScope(t)), tenants.Write, func(ctx context.Context, db bun.IDB) error {
		bs, unknown, unknownReadings = bs[:0], 0, 0
		var codes []string
		seen := map[string]bool{}
		for _, m := range ms {
			if !seen[m.code] {
				seen[m.code] = true
				codes = append(codes, m.code)
			}
		}
		byCode := make(map[string]Device, len(codes))
		for i := 0; i < len(codes); i += 500 {
			var ds []Device
			if err := db.NewSelect().Model(&ds).Column("id", "code", "type").Where("code IN (?)", bun.List(codes[i:min(i+500, len(codes))])).Scan(ctx); err != nil {
				return err
			}
			for _, d := range ds {
				byCode[d.Code] = d
			}
		}
		for _, m := range ms {
			d, ok := byCode[m.code]
			if !ok {
				unknown++
				unknownReadings += len(m.batch.Readings)
				continue
			}
			bs = append(bs, &deviceBatch{dev: d, batch: m.batch})
		}
		if unknownReadings > 0 {
			if err := countRejections(ctx, db, now, map[string]int{RejectUnknownDevice: unknownReadings}); err != nil {
				return err
			}
		}
		return c.s.writeBatches(ctx, db, now, bs)
	})
	switch code := errs.CodeOf(err); {
	case err == nil:
	case code == errs.Internal || code == errs.Conflict || code == errs.Unavailable:
		return err // the database (or a replica taking the same batch): try again
	default:
		// The tenant's data refuses the write (suspended, going away): trying again would stop
		// every other tenant's readings behind it.
		c.log.Warn("mqtt: readings refused by the tenant", "tenant", slug, "messages", len(ms), "err", err)
		c.done(ctx, ms, mqttRefused, len(ms))
		return nil
	}
	var accepted int64
	var keys []string
	taken, dups := 0, 0
	all := &Result{Rejected: map[string]int{}} // counted once for the flush
	for _, x := range bs {
		if x.res.Duplicate {
			dups++
			continue
		}
		taken++
		accepted += int64(x.res.Accepted)
		all.Accepted += x.res.Accepted
		for reason, n := range x.res.Rejected {
			all.Rejected[reason] += n
		}
		keys = append(keys, batchKey(x.dev.ID, x.batch.Batch))
	}
	if unknownReadings > 0 {
		all.Rejected[RejectUnknownDevice] += unknownReadings
	}
	c.s.stats.count(t.Slug, all)
	if accepted > 0 && c.k.Usage != nil {
		// One usage event per tenant and flush, keyed by the batches it wrote.
		slices.Sort(keys)
		sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
		if err := c.k.Usage.Record(ctx, t.ID, billing.MeterSensorReadings, accepted, "monitoring.mqtt:"+hex.EncodeToString(sum[:16])); err != nil {
			c.log.Error("monitoring: recording usage", "tenant", t.Slug, "err", err)
		}
	}
	if c.beforeAck != nil && !c.beforeAck() {
		return nil
	}
	c.s.stats.mqtt.WithLabelValues(mqttTaken).Add(float64(taken))
	c.s.stats.mqtt.WithLabelValues(mqttDuplicate).Add(float64(dups))
	c.s.stats.mqtt.WithLabelValues(mqttUnknownDevice).Add(float64(unknown))
	c.ack(ctx, ms)
	return nil
}

// done counts messages of an outcome and acknowledges them.
func (c *consumer) done(ctx context.Context, ms []message, outcome string, n int) {
	c.s.stats.mqtt.WithLabelValues(outcome).Add(float64(n))
	c.ack(ctx, ms)
}

// ack hands ms to the acknowledger; when the consumer stops first they are not acknowledged
// (the broker sends them again, and they are found taken).
func (c *consumer) ack(ctx context.Context, ms []message) {
	select {
	case c.acks <- ms:
	case <-ctx.Done():
	}
}

// acknowledge sends the acknowledgements of what was written (one packet each), apart from the
// writer so that it goes on with the next flush meanwhile. It ends when the writer has ended
// and every acknowledgement handed to it is sent.
func (c *consumer) acknowledge() {
	for {
		select {
		case ms := <-c.acks:
			for _, m := range ms {
				m.ack()
			}
		case <-c.stop:
			for {
				select {
				case ms := <-c.acks:
					for _, m := range ms {
						m.ack()
					}
				default:
					return
				}
			}
		}
	}
}

// tenant returns the live tenant of slug (nil: none) and whether its plan has monitoring,
// remembered for tenantTTL.
func (c *consumer) tenant(ctx context.Context, slug string) (*tenants.Tenant, bool, error) {
	now := time.Now()
	if e, ok := c.tenants[slug]; ok && now.Before(e.until) {
		return e.t, e.entitled, nil
	}
	t, err := c.k.Store.FindTenantBySlug(ctx, slug)
	if errs.Is(err, errs.NotFound) {
		t, err = nil, nil
	}
	if err != nil {
		return nil, false, err
	}
	on := false
	if t != nil {
		if on, err = c.k.Entitled(ctx, t, Entitlement); err != nil {
			return nil, false, err
		}
	}
	if len(c.tenants) > 10_000 {
		clear(c.tenants) // slugs from topics anyone may publish to: keep the map small
	}
	c.tenants[slug] = tenantEntry{t: t, entitled: on, until: now.Add(tenantTTL)}
	return t, on, nil
}
