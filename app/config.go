package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
)

// Config is the whole configuration, read from the environment at start and validated at once.
type Config struct {
	DataDir     string `env:"CITYOPS_DATA_DIR" envDefault:"./data"`
	Addr        string `env:"CITYOPS_ADDR" envDefault:"127.0.0.1:8080"`
	DatabaseURL string `env:"CITYOPS_DATABASE_URL"`
	// Clusters are the PostgreSQL clusters besides the main one that hold tenant schemas:
	// "name=postgres://…" entries separated by ";" or newlines (CITYOPS_CLUSTERS_FILE: one a
	// line, since the URLs hold passwords); ClusterCapacity "name=N,…" the live tenants each may
	// hold (main included; 0 or absent: no limit). See tenants.ParseClusters.
	Clusters        string `env:"CITYOPS_CLUSTERS"`
	ClusterCapacity string `env:"CITYOPS_CLUSTER_CAPACITY"`
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
	// Blob: where photos and offboarding archives are kept (the local disk by default, a bucket
	// over the S3 API with several replicas); see internal/blob.Config for its variables.
	Blob blob.Config

	// Stripe: an unset key is offline mode (the ledger and statements work alone).
	StripeKey           string `env:"CITYOPS_STRIPE_KEY"`
	StripeWebhookSecret string `env:"CITYOPS_STRIPE_WEBHOOK_SECRET"`
	StripeAPIBase       string `env:"CITYOPS_STRIPE_API_BASE"`

	// MapTiles is the default base map of tenants that chose none (their setting map.tiles):
	// none (offline: the shipped boundary and the tenant's grids, for networks without internet),
	// osm (OpenStreetMap) or tianditu (天地图; each tenant's browser key is its credential
	// "tianditu" in the secret store).
	MapTiles string `env:"CITYOPS_MAP_TILES" envDefault:"none"`

	// MQTT: the ingest of device readings over MQTT (platform/monitoring). An unset URL is HTTP
	// only. The client id names the app's persistent session at the broker: fixed per replica,
	// distinct between replicas; with several replicas, a share group splits the readings
	// between them ($share/{group}/…).
	MQTTURL        string `env:"CITYOPS_MQTT_URL"`
	MQTTUsername   string `env:"CITYOPS_MQTT_USERNAME"`
	MQTTPassword   string `env:"CITYOPS_MQTT_PASSWORD"`
	MQTTClientID   string `env:"CITYOPS_MQTT_CLIENT_ID" envDefault:"cityops-ingest"`
	MQTTShareGroup string `env:"CITYOPS_MQTT_SHARE_GROUP"`

	// Notifications (platform/notify): the operator's mail server for tenants without their own
	// (TLS: starttls, tls or none), the WeChat Work robot webhook's address (its key is each
	// tenant's credential notify_wecom) and the Aliyun SMS endpoint (its key: notify_sms).
	SMTPHost     string `env:"CITYOPS_SMTP_HOST"`
	SMTPPort     int    `env:"CITYOPS_SMTP_PORT"`
	SMTPTLS      string `env:"CITYOPS_SMTP_TLS" envDefault:"starttls"`
	SMTPUsername string `env:"CITYOPS_SMTP_USERNAME"`
	SMTPPassword string `env:"CITYOPS_SMTP_PASSWORD"`
	SMTPFrom     string `env:"CITYOPS_SMTP_FROM"`
	WeComURL     string `env:"CITYOPS_WECOM_URL"`
	AliyunSMSURL string `env:"CITYOPS_ALIYUN_SMS_URL"`

	// PDFFont is the TrueType font with Chinese glyphs that PDF documents (the evaluation
	// bulletins) are set in: Debian's fonts-droid-fallback by default. A missing font refuses
	// the PDF with a 503 naming it; everything else works.
	PDFFont string `env:"CITYOPS_PDF_FONT" envDefault:"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"`
	// RedisURL (redis://host:6379/0) shares the rate limiters' counts between the replicas;
	// unset, each replica counts its own (enough for one).
	RedisURL string `env:"CITYOPS_REDIS_URL"`

	// SSOClockSkew is how far an OpenID provider's clock may differ from ours when its ID tokens
	// are checked (docs/identity.md); 0 is sso.DefaultClockSkew.
	SSOClockSkew time.Duration `env:"CITYOPS_SSO_CLOCK_SKEW" envDefault:"2m"`

	// Video (docs/monitoring.md "Video"): FFmpeg is the ffmpeg binary of the RTSP→HLS gateway
	// (unset: live viewing is off and says so; everything else works); VideoTranscode re-encodes
	// to H.264 instead of copying (H.265 cameras); VideoExternal is the base URL of an optional
	// external media server (MediaMTX's HLS server) that the app proxies for cameras with an
	// external path.
	FFmpeg         string `env:"CITYOPS_FFMPEG"`
	VideoTranscode bool   `env:"CITYOPS_VIDEO_TRANSCODE" envDefault:"false"`
	VideoExternal  string `env:"CITYOPS_VIDEO_EXTERNAL"`
}

// LoadConfig reads the environment. Secrets may come from files: CITYOPS_DATABASE_URL_FILE,
// CITYOPS_STRIPE_KEY_FILE, CITYOPS_STRIPE_WEBHOOK_SECRET_FILE, CITYOPS_MQTT_PASSWORD_FILE,
// CITYOPS_S3_ACCESS_KEY_FILE, CITYOPS_S3_SECRET_KEY_FILE, CITYOPS_CLUSTERS_FILE.
// Every problem is reported at once.
func LoadConfig() (Config, error) { return LoadConfigFrom(env.ToMap(os.Environ())) }

// LoadConfigFrom reads the configuration from the variables in environ, as LoadConfig does from
// the process's environment (an environment file, say).
func LoadConfigFrom(environ map[string]string) (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"CITYOPS_DATABASE_URL_FILE", &c.DatabaseURL}, {"CITYOPS_CLUSTERS_FILE", &c.Clusters}, {"CITYOPS_STRIPE_KEY_FILE", &c.StripeKey}, {"CITYOPS_STRIPE_WEBHOOK_SECRET_FILE", &c.StripeWebhookSecret},
		{"CITYOPS_MQTT_PASSWORD_FILE", &c.MQTTPassword}, {"CITYOPS_SMTP_PASSWORD_FILE", &c.SMTPPassword},
		{"CITYOPS_S3_ACCESS_KEY_FILE", &c.Blob.S3AccessKey}, {"CITYOPS_S3_SECRET_KEY_FILE", &c.Blob.S3SecretKey}} {
		if path := environ[f.name]; path != "" && *f.dst == "" {
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
	if _, err := c.clusters(); err != nil {
		problems = append(problems, fmt.Errorf("CITYOPS_CLUSTERS: %w", err))
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
	if c.MQTTURL != "" {
		if u, err := url.Parse(c.MQTTURL); err != nil || u.Host == "" || !slices.Contains([]string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}, u.Scheme) {
			problems = append(problems, errors.New("CITYOPS_MQTT_URL must be a broker URL: tcp://host:1883, ssl://host:8883 or ws(s)://host/path"))
		}
		if !validMQTTName(c.MQTTClientID, 1, 64) {
			problems = append(problems, errors.New("CITYOPS_MQTT_CLIENT_ID must be 1 to 64 letters, digits, '-', '_' or '.'"))
		}
		if c.MQTTShareGroup != "" && !validMQTTName(c.MQTTShareGroup, 1, 64) {
			problems = append(problems, errors.New("CITYOPS_MQTT_SHARE_GROUP must be 1 to 64 letters, digits, '-', '_' or '.'"))
		}
	}
	if !slices.Contains([]string{"", "starttls", "tls", "none"}, c.SMTPTLS) {
		problems = append(problems, errors.New("CITYOPS_SMTP_TLS must be starttls, tls or none"))
	}
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		problems = append(problems, errors.New("CITYOPS_SMTP_PORT must be a port, 1 to 65535"))
	}
	if c.MQTTURL == "" && (c.MQTTUsername != "" || c.MQTTShareGroup != "") {
		problems = append(problems, errors.New("CITYOPS_MQTT_USERNAME or CITYOPS_MQTT_SHARE_GROUP is set but CITYOPS_MQTT_URL is not"))
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			problems = append(problems, errors.New("CITYOPS_REDIS_URL must be redis://host:6379/0 or rediss://… (TLS)"))
		}
	}
	if c.SSOClockSkew < 0 || c.SSOClockSkew > 10*time.Minute {
		problems = append(problems, fmt.Errorf("CITYOPS_SSO_CLOCK_SKEW %s must be between 0 and 10m", c.SSOClockSkew))
	}
	if err := c.Secrets.Validate(); err != nil {
		problems = append(problems, err)
	}
	if c.Blob.Dir == "" && c.DataDir != "" {
		c.Blob.Dir = filepath.Join(c.DataDir, "blobs")
	}
	if err := c.Blob.Validate(); err != nil {
		problems = append(problems, err)
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	return errors.Join(problems...)
}

// validMQTTName reports whether s may be an MQTT client id or share group here: min to max
// letters, digits, '-', '_' or '.' (no '/', '+', '#': they are topic syntax).
func validMQTTName(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// clusters are the tenant clusters of CITYOPS_CLUSTERS and CITYOPS_CLUSTER_CAPACITY; they need
// PostgreSQL.
func (c *Config) clusters() ([]tenants.Cluster, error) {
	cl, err := tenants.ParseClusters(c.Clusters, c.ClusterCapacity)
	if err == nil && c.DatabaseURL == "" && strings.TrimSpace(c.Clusters) != "" {
		err = errors.New("several clusters need PostgreSQL (CITYOPS_DATABASE_URL)")
	}
	return cl, err
}

// secureCookies reports whether cookies get the Secure flag.
func (c *Config) secureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Redacted returns the configuration with secrets masked, for logs.
func (c Config) Redacted() Config {
	if c.DatabaseURL != "" {
		c.DatabaseURL = "[redacted]"
	}
	if c.Clusters != "" {
		c.Clusters = "[redacted]"
	}
	if c.StripeKey != "" {
		c.StripeKey = "[redacted]"
	}
	if c.StripeWebhookSecret != "" {
		c.StripeWebhookSecret = "[redacted]"
	}
	if c.MQTTPassword != "" {
		c.MQTTPassword = "[redacted]"
	}
	if c.SMTPPassword != "" {
		c.SMTPPassword = "[redacted]"
	}
	if u, err := url.Parse(c.RedisURL); err == nil && u.User != nil {
		u.User = url.User("[redacted]")
		c.RedisURL = u.String()
	}
	if u, err := url.Parse(c.MQTTURL); err == nil && u.User != nil {
		u.User = url.User("[redacted]")
		c.MQTTURL = u.String()
	}
	if c.Blob.S3AccessKey != "" {
		c.Blob.S3AccessKey = "[redacted]"
	}
	if c.Blob.S3SecretKey != "" {
		c.Blob.S3SecretKey = "[redacted]"
	}
	return c
}
