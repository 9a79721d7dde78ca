package blob

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 keeps objects in one bucket over the S3 API (AWS S3, MinIO, Ceph RGW, SeaweedFS,
// versitygw, Aliyun OSS and the like), so that every replica sees the same objects.
type S3 struct {
	client *minio.Client
	bucket string
}

var _ Store = (*S3)(nil)

// NewS3 connects to cfg's endpoint and checks that its bucket exists (the operator makes it; the
// app never creates buckets).
func NewS3(ctx context.Context, cfg Config) (*S3, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.S3Endpoint)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.S3CAFile != "" {
		pem, err := os.ReadFile(cfg.S3CAFile)
		if err != nil {
			return nil, fmt.Errorf("CITYOPS_S3_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CITYOPS_S3_CA_FILE %s holds no PEM certificate", cfg.S3CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	lookup := minio.BucketLookupDNS
	if cfg.S3PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.S3AccessKey, cfg.S3SecretKey, ""),
		Secure:    u.Scheme == "https",
		Region:    cfg.S3Region,
		Transport: tr, BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("object storage %s: %w", cfg.S3Endpoint, err)
	}
	ok, err := c.BucketExists(ctx, cfg.S3Bucket)
	if err != nil {
		return nil, fmt.Errorf("object storage %s, bucket %s: %w", cfg.S3Endpoint, cfg.S3Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("object storage %s has no bucket %s: make it first (see docs/operations.md, Object storage)", cfg.S3Endpoint, cfg.S3Bucket)
	}
	return &S3{client: c, bucket: cfg.S3Bucket}, nil
}

// Kind is "s3".
func (*S3) Kind() string { return "s3" }

// Ping asks whether the bucket exists, which checks the endpoint and the credentials too.
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err == nil && !ok {
		err = fmt.Errorf("object storage has no bucket %s", s.bucket)
	}
	return err
}

// Put uploads key in one request (several parts beyond minio-go's part size), checked first.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if err := opts.check(size); err != nil {
		return Info{}, err
	}
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	cr := &countReader{r: r}
	info, err := s.client.PutObject(ctx, s.bucket, key, io.LimitReader(cr, size), size, minio.PutObjectOptions{ContentType: ct})
	// A reader with fewer or more than size bytes is refused; whatever got stored goes again.
	var one [1]byte
	short := cr.eof && cr.n < size
	long := !short && err == nil && func() bool { n, _ := r.Read(one[:]); return n > 0 }()
	if short || long {
		s.Delete(context.WithoutCancel(ctx), key)
		return Info{}, errs.E(errs.Invalid, msgSizeMismatch)
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	return Info{Key: key, Size: info.Size, Modified: info.LastModified.UTC()}, nil
}

// countReader counts what is read and notes the end.
type countReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	return n, err
}

// Open fetches key (its first bytes at once, so that a missing object is an error here).
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := CheckKey(key); err != nil {
		return nil, Info{}, err
	}
	o, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.err(key, err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		return nil, Info{}, s.err(key, err)
	}
	return o, Info{Key: key, Size: st.Size, Modified: st.LastModified.UTC()}, nil
}

// Stat asks for key's headers.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.err(key, err)
	}
	return Info{Key: key, Size: st.Size, Modified: st.LastModified.UTC()}, nil
}

// Delete removes key (S3 answers a missing key with success).
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.err(key, err)
	}
	return nil
}

// List lists the bucket under prefix, recursively.
func (s *S3) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var out []Info
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("blob list %s: %w", prefix, o.Err)
		}
		out = append(out, Info{Key: o.Key, Size: o.Size, Modified: o.LastModified.UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// DeletePrefix removes what List finds, in batches (multi-object delete).
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" || checkPrefix(prefix) != nil {
		return CheckKey(prefix)
	}
	infos, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	ch := make(chan minio.ObjectInfo, len(infos))
	for _, i := range infos {
		ch <- minio.ObjectInfo{Key: i.Key}
	}
	close(ch)
	var problems []error
	for e := range s.client.RemoveObjects(ctx, s.bucket, ch, minio.RemoveObjectsOptions{}) {
		problems = append(problems, fmt.Errorf("blob %s: %w", e.ObjectName, e.Err))
	}
	return errors.Join(problems...)
}

// PresignGet signs a GET of key for ttl, with the download's name and type as response headers.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration, filename, mediaType string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	q := url.Values{}
	if filename != "" {
		q.Set("response-content-disposition", `attachment; filename="`+strings.ReplaceAll(filename, `"`, "")+`"`)
	}
	if mediaType != "" {
		q.Set("response-content-type", mediaType)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, q)
	if err != nil {
		return "", fmt.Errorf("blob presign %s: %w", key, err)
	}
	return u.String(), nil
}

// err turns S3's "no such key" into fs.ErrNotExist.
func (s *S3) err(key string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound":
		return notExist(key)
	}
	return fmt.Errorf("blob %s: %w", key, err)
}
