// Package blobtest starts a real S3-compatible server for tests (versitygw with its posix
// backend, installed by scripts/test.sh) and runs the behavioural suite every blob.Store must
// pass.
package blobtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// VersitygwVersion is the versitygw release scripts/test.sh installs.
const VersitygwVersion = "v1.8.0"

// Server is a running S3 server.
type Server struct {
	// Endpoint is its http:// URL.
	Endpoint          string
	Access, Secret    string
	client            *minio.Client
	bucketsMade       int
	versitygw, region string
}

// versitygwBin finds versitygw: CITYOPS_VERSITYGW_BIN, PATH, then the Go bin folder.
func versitygwBin() string {
	if p := os.Getenv("CITYOPS_VERSITYGW_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	dirs := []string{os.Getenv("GOBIN")}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, "versitygw"); isExec(p) {
			return p
		}
	}
	return ""
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// MustStart starts versitygw on a free port over a temporary folder, stopped when tb ends. Without
// versitygw the test is skipped, saying how to install it — or fails when CI is set, since the
// suite's own command (scripts/test.sh) installs it.
func MustStart(tb testing.TB) *Server {
	tb.Helper()
	bin := versitygwBin()
	if bin == "" {
		why := "no versitygw (the S3 server these tests run against): scripts/test.sh installs it, or go install github.com/versity/versitygw/cmd/versitygw@" + VersitygwVersion
		if os.Getenv("CI") != "" {
			tb.Fatal(why)
		}
		tb.Skip(why)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir, meta := tb.TempDir(), tb.TempDir()
	s := &Server{Endpoint: "http://" + addr, Access: "cityopstest", Secret: "cityopstest-secret-0123456789", versitygw: bin, region: "us-east-1"}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--access", s.Access, "--secret", s.Secret, "--region", s.region, "--port", addr, "--quiet",
		"posix", "--sidecar", meta, dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	s.client, err = minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s.Access, s.Secret, ""), Region: s.region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			tb.Fatalf("versitygw ended at start: %s", out.String())
		default:
		}
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.client.ListBuckets(cctx)
		ccancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("versitygw did not answer on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// MustBucket makes a new bucket and returns the configuration of a blob store on it.
func (s *Server) MustBucket(tb testing.TB) blob.Config {
	tb.Helper()
	s.bucketsMade++
	name := fmt.Sprintf("cityops-test-%d-%d", time.Now().UnixNano()%1e9, s.bucketsMade)
	if err := s.client.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: s.region}); err != nil {
		tb.Fatalf("make bucket %s: %v", name, err)
	}
	return blob.Config{Backend: blob.BackendS3, S3Endpoint: s.Endpoint, S3Bucket: name, S3Region: s.region,
		S3AccessKey: s.Access, S3SecretKey: s.Secret, S3PathStyle: true, PresignTTL: 90 * time.Second}
}

// MustS3 starts a server (or reuses srv when not nil) and opens a store on a new bucket.
func MustS3(tb testing.TB, srv *Server) blob.Store {
	tb.Helper()
	if srv == nil {
		srv = MustStart(tb)
	}
	st, err := blob.NewS3(context.Background(), srv.MustBucket(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
