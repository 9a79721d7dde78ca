package app

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/cityops/cityops/tenants/secrets"
)

// Config is the whole configuration, read from the environment at start and validated at once.
type Config struct {
	DataDir     string `env:"CITYOPS_DATA_DIR" envDefault:"./data"`
	Addr        string `env:"CITYOPS_ADDR" envDefault:"127.0.0.1:8080"`
	DatabaseURL string `env:"CITYOPS_DATABASE_URL"`
	// BaseURL is how users reach the server; it decides the Secure flag of cookies.
	BaseURL        string        `env:"CITYOPS_BASE_URL"`
	RolePrefix     string        `env:"CITYOPS_DB_ROLE_PREFIX" envDefault:"cityops"`
	DBMaxConns     int           `env:"CITYOPS_DB_MAX_CONNS" envDefault:"20"`
	DBConnLifetime time.Duration `env:"CITYOPS_DB_CONN_LIFETIME" envDefault:"15m"`
	MaxOpenTenants int           `env:"CITYOPS_SQLITE_MAX_OPEN_TENANTS" envDefault:"64"`
	MigrateOnStart bool          `env:"CITYOPS_MIGRATE_ON_START" envDefault:"true"`
	MigrateWorkers int           `env:"CITYOPS_MIGRATE_WORKERS" envDefault:"4"`
	TrustedProxies []string      `env:"CITYOPS_TRUSTED_PROXIES" envSeparator:","`
	BodyLimit      int           `env:"CITYOPS_BODY_LIMIT" envDefault:"33554432"`
	LogFormat      string        `env:"CITYOPS_LOG_FORMAT" envDefault:"json"`
	LogLevel       string        `env:"CITYOPS_LOG_LEVEL" envDefault:"info"`
	ShutdownGrace  time.Duration `env:"CITYOPS_SHUTDOWN_GRACE" envDefault:"20s"`
	// Secrets: the per-tenant keys and integration credentials (the local keyring by default,
	// Vault in production); see tenants/secrets.Config for its variables.
	Secrets secrets.Config

	// Stripe: an unset key is offline mode (the ledger and statements work alone).
	StripeKey           string `env:"CITYOPS_STRIPE_KEY"`
	StripeWebhookSecret string `env:"CITYOPS_STRIPE_WEBHOOK_SECRET"`
	StripeAPIBase       string `env:"CITYOPS_STRIPE_API_BASE"`

	// MapTiles is the console maps' base layer: none (grids and cases on a blank background, for
	// networks without internet), osm (OpenStreetMap) or tianditu (天地图; each tenant's browser
	// key is its credential "tianditu" in the secret store).
	MapTiles string `env:"CITYOPS_MAP_TILES" envDefault:"none"`

	// PDFFont is the TrueType font with Chinese glyphs that PDF documents (the evaluation
	// bulletins) are set in: Debian's fonts-droid-fallback by default. A missing font refuses
	// the PDF with a 503 naming it; everything else works.
	PDFFont string `env:"CITYOPS_PDF_FONT" envDefault:"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"`

	// Video (docs/monitoring.md "Video"): FFmpeg is the ffmpeg binary of the RTSP→HLS gateway
	// (unset: live viewing is off and says so; everything else works); VideoTranscode re-encodes
	// to H.264 instead of copying (H.265 cameras); VideoExternal is the base URL of an optional
	// external media server (MediaMTX's HLS server) that the app proxies for cameras with an
	// external path.
	FFmpeg         string `env:"CITYOPS_FFMPEG"`
	VideoTranscode bool   `env:"CITYOPS_VIDEO_TRANSCODE" envDefault:"false"`
	VideoExternal  string `env:"CITYOPS_VIDEO_EXTERNAL"`
}

// LoadConfig reads the environment. Secrets may come from files: CITYOPS_DATABASE_URL_FILE.
// Every problem is reported at once.
func LoadConfig() (Config, error) {
	var c Config
	if err := env.Parse(&c); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	if f := os.Getenv("CITYOPS_DATABASE_URL_FILE"); f != "" && c.DatabaseURL == "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("configuration: CITYOPS_DATABASE_URL_FILE: %w", err)
		}
		c.DatabaseURL = strings.TrimSpace(string(b))
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"CITYOPS_STRIPE_KEY_FILE", &c.StripeKey}, {"CITYOPS_STRIPE_WEBHOOK_SECRET_FILE", &c.StripeWebhookSecret}} {
		if path := os.Getenv(f.name); path != "" && *f.dst == "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return c, fmt.Errorf("configuration: %s: %w", f.name, err)
			}
			*f.dst = strings.TrimSpace(string(b))
		}
	}
	return c, c.Validate()
}

// Validate checks the configuration and reports every problem.
func (c *Config) Validate() error {
	var problems []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		problems = append(problems, fmt.Errorf("CITYOPS_ADDR %q is not host:port", c.Addr))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		problems = append(problems, errors.New("CITYOPS_DATABASE_URL must be a postgres:// URL"))
	}
	if c.DataDir == "" {
		problems = append(problems, errors.New("CITYOPS_DATA_DIR must not be empty"))
	}
	if c.BodyLimit < 1024 {
		problems = append(problems, errors.New("CITYOPS_BODY_LIMIT must be at least 1024 bytes"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		problems = append(problems, fmt.Errorf("CITYOPS_LOG_FORMAT %q must be json or text", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Errorf("CITYOPS_LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.MigrateWorkers < 1 || c.MigrateWorkers > 64 {
		problems = append(problems, errors.New("CITYOPS_MIGRATE_WORKERS must be between 1 and 64"))
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				problems = append(problems, fmt.Errorf("CITYOPS_TRUSTED_PROXIES: %q is not an IP or CIDR", p))
			}
		}
	}
	if c.StripeAPIBase != "" && !strings.HasPrefix(c.StripeAPIBase, "http://") && !strings.HasPrefix(c.StripeAPIBase, "https://") {
		problems = append(problems, fmt.Errorf("CITYOPS_STRIPE_API_BASE %q must be an http(s) URL", c.StripeAPIBase))
	}
	if c.StripeWebhookSecret != "" && c.StripeKey == "" {
		problems = append(problems, errors.New("CITYOPS_STRIPE_WEBHOOK_SECRET is set but CITYOPS_STRIPE_KEY is not"))
	}
	if c.Secrets.DataDir == "" {
		c.Secrets.DataDir = c.DataDir
	}
	if c.FFmpeg != "" {
		if fi, err := os.Stat(c.FFmpeg); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			problems = append(problems, fmt.Errorf("CITYOPS_FFMPEG %q is not an executable file (apt-get install ffmpeg; or leave it unset to turn live video off)", c.FFmpeg))
		}
	}
	if c.VideoExternal != "" && !strings.HasPrefix(c.VideoExternal, "http://") && !strings.HasPrefix(c.VideoExternal, "https://") {
		problems = append(problems, fmt.Errorf("CITYOPS_VIDEO_EXTERNAL %q must be an http(s) URL", c.VideoExternal))
	}
	switch c.MapTiles {
	case "", "none", "osm", "tianditu":
	default:
		problems = append(problems, fmt.Errorf("CITYOPS_MAP_TILES %q: use none, osm or tianditu", c.MapTiles))
	}
	if err := c.Secrets.Validate(); err != nil {
		problems = append(problems, err)
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	return errors.Join(problems...)
}

// secureCookies reports whether cookies get the Secure flag.
func (c *Config) secureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Redacted returns the configuration with secrets masked, for logs.
func (c Config) Redacted() Config {
	if c.DatabaseURL != "" {
		c.DatabaseURL = "[redacted]"
	}
	if c.StripeKey != "" {
		c.StripeKey = "[redacted]"
	}
	if c.StripeWebhookSecret != "" {
		c.StripeWebhookSecret = "[redacted]"
	}
	return c
}
