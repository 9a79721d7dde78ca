package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/blob/blobtest"
)

// BenchmarkPhoto: a 1 MiB photo stored, then read back, on the local folder and on S3
// (versitygw on this machine).
func BenchmarkPhoto(b *testing.B) {
	photo := bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0xE0}, 1<<18)
	stores := map[string]func(b *testing.B) blob.Store{
		"local": func(b *testing.B) blob.Store { return blob.NewLocal(b.TempDir()) },
		"s3":    func(b *testing.B) blob.Store { return blobtest.MustS3(b, nil) },
	}
	for _, name := range []string{"local", "s3"} {
		b.Run(name, func(b *testing.B) {
			s := stores[name](b)
			ctx := context.Background()
			b.SetBytes(int64(len(photo)))
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("tenants/bench/photos/%08d", i)
				i++
				if _, err := s.Put(ctx, key, bytes.NewReader(photo), int64(len(photo)), blob.PutOptions{ContentType: "image/jpeg", MaxSize: 10 << 20, Types: []string{"image/jpeg"}}); err != nil {
					b.Fatal(err)
				}
				r, _, err := s.Open(ctx, key)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkSize: the storage sample's walk of a tenant prefix holding 1,000 objects.
func BenchmarkSize(b *testing.B) {
	for _, name := range []string{"local", "s3"} {
		b.Run(name, func(b *testing.B) {
			var s blob.Store = blob.NewLocal(b.TempDir())
			if name == "s3" {
				s = blobtest.MustS3(b, nil)
			}
			ctx := context.Background()
			for i := range 1000 {
				key := fmt.Sprintf("tenants/t/photos/%02x/%08d", i%256, i)
				if _, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 1, blob.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if n, err := blob.Size(ctx, s, "tenants/t/"); err != nil || n != 1000 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
