package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// SimConfig is a simulator run: Devices devices of the tenant (SIM-0001…, made if missing, of
// every type in turn, around Lon/Lat) posting Rate readings a second in all to the ingest at
// URL (the server's base URL) for Duration.
type SimConfig struct {
	Tenant   string
	Devices  int
	Rate     int
	Duration time.Duration
	URL      string
	Lon, Lat float64
	Client   *http.Client
	// Incident has the first device report an incident from its first reading on: the value of
	// its type that the usual rules alarm on (incidentValues), for the demo and the tests of
	// alarms.
	Incident bool
}

// incidentValues are what a device in trouble reports, by type and metric: water over the kerb,
// a manhole cover open and tilted, gas at 40 %LEL, a bridge strained, a bin overflowing, a
// streetlight out.
var incidentValues = map[string]float64{
	"waterlog.level": 45, "manhole.open": 1, "manhole.tilt": 30, "gas.concentration": 40,
	"bridge.strain": 3000, "bin.fill": 97, "streetlight.current": 0,
}

// SimReport is what a simulator run did.
type SimReport struct {
	Posted, Accepted, Batches, Failed int
	Rejected                          map[string]int
	Elapsed                           time.Duration
}

// simDevice is a simulated device: its token and the state its readings walk from.
type simDevice struct {
	code, token string
	typ         *Type
	state       map[string]float64
	rnd         *rand.Rand
	incident    bool // reports incidentValues (SimConfig.Incident)
}

// next is the device's next value of metric m: a random walk within a plausible normal band
// (a manhole mostly closed and level, water rising and draining, a bin filling then emptied,
// a streetlight drawing current at night).
func (d *simDevice) next(m *Metric, at time.Time) float64 {
	if v, ok := incidentValues[d.typ.Code+"."+m.Code]; ok && d.incident {
		return v
	}
	v, ok := d.state[m.Code]
	r := d.rnd
	switch d.typ.Code + "." + m.Code {
	case "manhole.open":
		v = 0
		if r.Float64() < 0.002 {
			v = 1
		}
	case "manhole.tilt":
		v = math.Abs(v + r.NormFloat64()*0.2)
		v = min(v, 5)
	case "waterlog.level":
		if r.Float64() < 0.01 {
			v += 20 * r.Float64()
		}
		v = max(0, v*0.98+r.NormFloat64()*0.3)
	case "gas.concentration":
		v = max(0, min(100, v*0.9+r.Float64()*1.5))
	case "bridge.strain":
		v = v*0.95 + r.NormFloat64()*40
	case "bridge.tilt":
		v = v*0.99 + r.NormFloat64()*0.02
	case "streetlight.current":
		h := at.UTC().Add(8 * time.Hour).Hour()
		v = 0
		if h >= 19 || h < 6 {
			v = 2.2 + r.NormFloat64()*0.1
		}
	case "bin.fill":
		if !ok {
			v = r.Float64() * 60
		}
		v += r.Float64() * 0.3
		if v > 98 {
			v = 5
		}
	}
	v = max(m.Min, min(m.Max, v))
	d.state[m.Code] = v
	return math.Round(v*100) / 100
}

// Simulate drives the ingest over HTTP as real devices would (SimConfig), and reports what was
// accepted. Each second every device whose turn it is posts one batch of its readings.
func (s *Service) Simulate(ctx context.Context, cfg SimConfig, progress io.Writer) (*SimReport, error) {
	if cfg.Devices <= 0 || cfg.Devices > 100_000 || cfg.Rate <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("simulate: --devices, --rate and --duration must be positive")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	t, err := s.gate.FindTenantBySlug(ctx, cfg.Tenant)
	if err != nil {
		return nil, err
	}
	tctx := tenants.WithScope(ctx, tenants.SystemScope(t))
	devs, err := s.simDevices(tctx, cfg)
	if err != nil {
		return nil, err
	}
	url := strings.TrimRight(cfg.URL, "/") + "/api/v1/ingest/" + t.Slug + "/readings"
	rep := &SimReport{Rejected: map[string]int{}}
	var mu sync.Mutex
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	next := 0
	for sec := 0; time.Since(start) < cfg.Duration; sec++ {
		// This second's readings, in batches of at most MaxBatch per device.
		per := map[int][]ReadingInput{}
		now := time.Now()
		for i := 0; i < cfg.Rate; i++ {
			di := next % len(devs)
			next++
			d := devs[di]
			m := &d.typ.Metrics[(i/len(devs))%len(d.typ.Metrics)]
			at := now.Add(time.Duration(i) * time.Second / time.Duration(cfg.Rate))
			per[di] = append(per[di], ReadingInput{Metric: m.Code, Value: d.next(m, at), At: at.UTC()})
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for di, rs := range per {
			for len(rs) > 0 {
				part := rs[:min(len(rs), MaxBatch)]
				rs = rs[len(part):]
				wg.Add(1)
				sem <- struct{}{}
				go func(d *simDevice, part []ReadingInput) {
					defer func() { <-sem; wg.Done() }()
					res, err := postBatch(ctx, cfg.Client, url, d.token, Batch{Readings: part})
					mu.Lock()
					defer mu.Unlock()
					rep.Posted += len(part)
					rep.Batches++
					if err != nil {
						rep.Failed++
						if rep.Failed <= 3 && progress != nil {
							fmt.Fprintf(progress, "batch of %s: %v\n", d.code, err)
						}
						return
					}
					rep.Accepted += res.Accepted
					for k, v := range res.Rejected {
						rep.Rejected[k] += v
					}
				}(devs[di], part)
			}
		}
		wg.Wait()
		if progress != nil && sec%10 == 9 {
			mu.Lock()
			fmt.Fprintf(progress, "%s: %d posted, %d accepted\n", time.Since(start).Round(time.Second), rep.Posted, rep.Accepted)
			mu.Unlock()
		}
		select {
		case <-ctx.Done():
			rep.Elapsed = time.Since(start)
			return rep, ctx.Err()
		case <-tick.C:
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// simDevices makes the simulated devices that are missing and gives every one a fresh token
// (the tokens of the ones made before are not kept anywhere: rotating is how the simulator gets
// them).
func (s *Service) simDevices(ctx context.Context, cfg SimConfig) ([]*simDevice, error) {
	var have []string
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model((*Device)(nil)).Column("code").Where("code LIKE 'SIM-%'").Scan(ctx, &have)
	}); err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	for _, h := range have {
		exists[h] = true
	}
	out := make([]*simDevice, cfg.Devices)
	for i := range out {
		code := fmt.Sprintf("SIM-%04d", i+1)
		typ := &Types[i%len(Types)]
		var tok string
		var err error
		if exists[code] {
			var d *Device
			if d, tok, err = s.RotateToken(ctx, code); err == nil {
				typ, _ = FindType(d.Type)
			}
		} else {
			r := rand.New(rand.NewPCG(uint64(i), 7))
			lon, lat := cfg.Lon+(r.Float64()-0.5)*0.05, cfg.Lat+(r.Float64()-0.5)*0.05
			name := "模拟" + typ.Name("zh-CN") + " " + strconv.Itoa(i+1)
			_, tok, err = s.CreateDevice(ctx, DeviceInput{Code: code, Name: &name, Type: typ.Code, Lon: &lon, Lat: &lat})
		}
		if err != nil {
			return nil, fmt.Errorf("simulated device %s: %w", code, err)
		}
		out[i] = &simDevice{code: code, token: tok, typ: typ, state: map[string]float64{}, rnd: rand.New(rand.NewPCG(uint64(i), 11)),
			incident: cfg.Incident && i == 0}
	}
	return out, nil
}

// postBatch posts one batch and reads the answer.
func postBatch(ctx context.Context, c *http.Client, url, token string, b Batch) (*Result, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	var r Result
	return &r, json.Unmarshal(data, &r)
}

// runSimulate is the command "simulate <tenant>" with its flags --devices, --rate, --duration,
// --url, --lon, --lat, --incident (in that order after the tenant).
func (s *Service) runSimulate(ctx context.Context, args []string, out io.Writer) error {
	cfg := SimConfig{Tenant: args[0], Devices: 20, Rate: 100, Duration: time.Minute, URL: "http://127.0.0.1:8080", Lon: 101.546, Lat: 25.033}
	var err error
	atoi := func(s string, def int) int {
		if s == "" || err != nil {
			return def
		}
		var n int
		n, err = strconv.Atoi(s)
		return n
	}
	atof := func(s string, def float64) float64 {
		if s == "" || err != nil {
			return def
		}
		var f float64
		f, err = strconv.ParseFloat(s, 64)
		return f
	}
	cfg.Devices = atoi(args[1], cfg.Devices)
	cfg.Rate = atoi(args[2], cfg.Rate)
	if args[3] != "" && err == nil {
		cfg.Duration, err = time.ParseDuration(args[3])
	}
	if args[4] != "" {
		cfg.URL = args[4]
	}
	cfg.Lon, cfg.Lat = atof(args[5], cfg.Lon), atof(args[6], cfg.Lat)
	cfg.Incident = args[7] == "true"
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	rep, err := s.Simulate(ctx, cfg, out)
	if rep != nil {
		fmt.Fprintf(out, "%d readings posted in %d batches over %s (%.0f/s): %d accepted, rejected %v, %d batches failed\n",
			rep.Posted, rep.Batches, rep.Elapsed.Round(time.Millisecond), float64(rep.Posted)/max(rep.Elapsed.Seconds(), 1e-9), rep.Accepted, rep.Rejected, rep.Failed)
	}
	return err
}

// simulateCommand is the simulator's command-line registration.
var simulateCommand = module.Command{Use: "simulate <tenant>", Args: 1,
	Short: "post realistic readings of simulated devices (SIM-0001…, made if missing) through the server's HTTP ingest",
	Flags: []module.Flag{
		{Name: "devices", Usage: "how many devices (default 20)"},
		{Name: "rate", Usage: "readings a second, all devices together (default 100)"},
		{Name: "duration", Usage: "how long, e.g. 30s or 5m (default 1m)"},
		{Name: "url", Usage: "the server's base URL (default http://127.0.0.1:8080)"},
		{Name: "lon", Usage: "longitude the devices are placed around (default 101.546, 楚雄)"},
		{Name: "lat", Usage: "latitude the devices are placed around (default 25.033)"},
		{Name: "incident", Usage: "the first device (SIM-0001) reports an incident: water at 45 cm, a manhole open, gas at 40 %LEL, … (what the usual rules alarm on)", Bool: true},
	}}
