package blob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// The backends Config.Backend can name.
const (
	BackendLocal = "local"
	BackendS3    = "s3"
)

// Config picks and configures the object store. The env tags are the variables the app reads
// (github.com/caarlos0/env); the secrets may also come from files (CITYOPS_S3_ACCESS_KEY_FILE,
// CITYOPS_S3_SECRET_KEY_FILE, read by the app's configuration).
type Config struct {
	// Backend is "local" (the default: files under the data directory's blobs/) or "s3".
	Backend string `env:"CITYOPS_BLOB" envDefault:"local"`
	// Dir is the local store's folder; the app sets it to <CITYOPS_DATA_DIR>/blobs.
	Dir string

	// S3Endpoint is the S3 API's base URL, http:// or https:// (TLS), e.g.
	// https://s3.cn-north-1.amazonaws.com.cn or http://minio.internal:9000.
	S3Endpoint string `env:"CITYOPS_S3_ENDPOINT"`
	S3Bucket   string `env:"CITYOPS_S3_BUCKET"`
	S3Region   string `env:"CITYOPS_S3_REGION" envDefault:"us-east-1"`
	// S3AccessKey and S3SecretKey are the credentials (or their *_FILE variants).
	S3AccessKey string `env:"CITYOPS_S3_ACCESS_KEY,unset"`
	S3SecretKey string `env:"CITYOPS_S3_SECRET_KEY,unset"`
	// S3PathStyle addresses the bucket as endpoint/bucket/key (MinIO, Ceph, versitygw and most
	// servers run in-house) rather than bucket.endpoint/key (AWS, Aliyun OSS).
	S3PathStyle bool `env:"CITYOPS_S3_PATH_STYLE" envDefault:"true"`
	// S3CAFile is a PEM file of the certificate authorities an https endpoint is checked
	// against, when not the system's.
	S3CAFile string `env:"CITYOPS_S3_CA_FILE"`
	// PresignTTL is how long a presigned download link works (S3 only).
	PresignTTL time.Duration `env:"CITYOPS_S3_PRESIGN_TTL" envDefault:"90s"`
}

// LogValue prints the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return "[redacted]"
	}
	return slog.GroupValue(slog.String("backend", c.Backend), slog.String("dir", c.Dir),
		slog.String("s3_endpoint", c.S3Endpoint), slog.String("s3_bucket", c.S3Bucket), slog.String("s3_region", c.S3Region),
		slog.String("s3_access_key", red(c.S3AccessKey)), slog.String("s3_secret_key", red(c.S3SecretKey)),
		slog.Bool("s3_path_style", c.S3PathStyle), slog.Duration("presign_ttl", c.PresignTTL))
}

// Validate reports every problem of the configuration at once, naming the variables.
func (c Config) Validate() error {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	switch c.Backend {
	case "", BackendLocal:
		if c.Dir == "" {
			bad("the local object store needs a folder (CITYOPS_DATA_DIR)")
		}
	case BackendS3:
		if u, err := url.Parse(c.S3Endpoint); c.S3Endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			bad("CITYOPS_S3_ENDPOINT %q must be an http:// or https:// URL with no path, e.g. https://minio.internal:9000", c.S3Endpoint)
		}
		if !validBucket(c.S3Bucket) {
			bad("CITYOPS_S3_BUCKET %q must be a bucket name (3 to 63 lower-case letters, digits, '-' and '.')", c.S3Bucket)
		}
		if c.S3Region == "" {
			bad("CITYOPS_S3_REGION must not be empty (us-east-1 for most servers run in-house)")
		}
		if c.S3AccessKey == "" || c.S3SecretKey == "" {
			bad("object storage on S3 needs CITYOPS_S3_ACCESS_KEY and CITYOPS_S3_SECRET_KEY (or their *_FILE variants)")
		}
		if c.PresignTTL < time.Second || c.PresignTTL > 15*time.Minute {
			bad("CITYOPS_S3_PRESIGN_TTL %s must be between 1s and 15m (a download link should not outlive its purpose)", c.PresignTTL)
		}
	default:
		bad("CITYOPS_BLOB %q must be local or s3", c.Backend)
	}
	return errors.Join(problems...)
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.HasPrefix(b, "-") || strings.HasSuffix(b, "-") || strings.Contains(b, "..") {
		return false
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Open opens the store cfg names.
func Open(ctx context.Context, cfg Config) (Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Backend == BackendS3 {
		return NewS3(ctx, cfg)
	}
	l := NewLocal(cfg.Dir)
	if err := os.MkdirAll(l.root, 0o750); err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	return l, nil
}
