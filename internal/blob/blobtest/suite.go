package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/errs"
)

// Run is the behaviour every blob.Store has, run against a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	ctx := context.Background()
	mustPut := func(t *testing.T, s blob.Store, key, body string) {
		t.Helper()
		if _, err := s.Put(ctx, key, strings.NewReader(body), int64(len(body)), blob.PutOptions{ContentType: "text/plain"}); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	read := func(t *testing.T, s blob.Store, key string) string {
		t.Helper()
		r, info, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("Open %s: %v", key, err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(b)) || info.Key != key {
			t.Fatalf("Open %s: info %+v for %d bytes", key, info, len(b))
		}
		return string(b)
	}
	absent := func(t *testing.T, s blob.Store, key string) {
		t.Helper()
		if _, err := s.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat %s: got %v, want fs.ErrNotExist", key, err)
		}
		if _, _, err := s.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open %s: got %v, want fs.ErrNotExist", key, err)
		}
	}

	t.Run("put open stat replace delete", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "ping/first", "x") // a local store's folder appears with its first object
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		absent(t, s, "tenants/a/x.txt")
		mustPut(t, s, "tenants/a/x.txt", "hello")
		if got := read(t, s, "tenants/a/x.txt"); got != "hello" {
			t.Fatalf("got %q, want hello", got)
		}
		info, err := s.Stat(ctx, "tenants/a/x.txt")
		if err != nil || info.Size != 5 || info.Modified.IsZero() {
			t.Fatalf("Stat: %+v %v", info, err)
		}
		mustPut(t, s, "tenants/a/x.txt", "replaced whole")
		if got := read(t, s, "tenants/a/x.txt"); got != "replaced whole" {
			t.Fatalf("got %q after replace", got)
		}
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		if _, err := s.Put(ctx, "tenants/a/big.bin", bytes.NewReader(big), int64(len(big)), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "tenants/a/big.bin"); got != string(big) {
			t.Fatalf("big object: %d bytes back, want %d", len(got), len(big))
		}
		if err := s.Delete(ctx, "tenants/a/x.txt"); err != nil {
			t.Fatal(err)
		}
		absent(t, s, "tenants/a/x.txt")
		if err := s.Delete(ctx, "tenants/a/x.txt"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
	})

	t.Run("refused puts write nothing", func(t *testing.T) {
		s := open(t)
		cases := []struct {
			name string
			r    io.Reader
			size int64
			opts blob.PutOptions
			code errs.Code
		}{
			{"too large", strings.NewReader("123456"), 6, blob.PutOptions{MaxSize: 5}, errs.TooLarge},
			{"wrong type", strings.NewReader("<html>"), 6, blob.PutOptions{ContentType: "text/html", Types: []string{"image/jpeg", "image/png"}}, errs.Unsupported},
			{"no type", strings.NewReader("x"), 1, blob.PutOptions{Types: []string{"image/png"}}, errs.Unsupported},
			{"shorter than said", strings.NewReader("abc"), 10, blob.PutOptions{}, errs.Invalid},
			{"longer than said", strings.NewReader("abcdefghijkl"), 3, blob.PutOptions{}, errs.Invalid},
			{"negative size", strings.NewReader("abc"), -1, blob.PutOptions{}, errs.Invalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.Put(ctx, "tenants/r/obj", c.r, c.size, c.opts)
				if !errs.Is(err, c.code) {
					t.Fatalf("got %v, want %s", err, c.code)
				}
				absent(t, s, "tenants/r/obj")
			})
		}
		// A reader that fails half way stores nothing either.
		_, err := s.Put(ctx, "tenants/r/obj", io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errors.New("disk gone"))), 10, blob.PutOptions{})
		if err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		absent(t, s, "tenants/r/obj")
		if infos, err := s.List(ctx, "tenants/r/"); err != nil || len(infos) != 0 {
			t.Fatalf("after refused puts: %v %v", infos, err)
		}
	})

	t.Run("keys", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"", "/abs", "a//b", "../up", "a/../b", "a/./b", "sp ace", "nul\x00", "a\\b", "汉字", "a/", strings.Repeat("k", 600)} {
			if _, err := s.Put(ctx, k, strings.NewReader("x"), 1, blob.PutOptions{}); !errs.Is(err, errs.Invalid) {
				t.Errorf("Put %q: got %v, want invalid", k, err)
			}
			if _, _, err := s.Open(ctx, k); !errs.Is(err, errs.Invalid) {
				t.Errorf("Open %q: got %v, want invalid", k, err)
			}
		}
		if err := s.DeletePrefix(ctx, ""); !errs.Is(err, errs.Invalid) {
			t.Errorf("DeletePrefix of everything: got %v, want invalid", err)
		}
		if _, err := s.List(ctx, "../"); !errs.Is(err, errs.Invalid) {
			t.Errorf("List ../: got %v, want invalid", err)
		}
	})

	t.Run("list size delete prefix", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"tenants/a/photos/aa/1", "tenants/a/photos/bb/2", "tenants/a/x", "tenants/ab/photos/cc/3", "offboarding/a/z.zip"} {
			mustPut(t, s, k, "data-"+k)
		}
		infos, err := s.List(ctx, "tenants/a/")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		var sum int64
		for _, i := range infos {
			keys = append(keys, i.Key)
			sum += i.Size
		}
		if got, want := strings.Join(keys, " "), "tenants/a/photos/aa/1 tenants/a/photos/bb/2 tenants/a/x"; got != want {
			t.Fatalf("List tenants/a/: got %s, want %s", got, want)
		}
		n, err := blob.Size(ctx, s, "tenants/a/")
		if err != nil || n != sum || n == 0 {
			t.Fatalf("Size: %d %v, want %d", n, err, sum)
		}
		if n, err := blob.Size(ctx, s, "tenants/none/"); err != nil || n != 0 {
			t.Fatalf("Size of nothing: %d %v", n, err)
		}
		if err := s.DeletePrefix(ctx, "tenants/a/"); err != nil {
			t.Fatal(err)
		}
		if infos, _ := s.List(ctx, "tenants/a/"); len(infos) != 0 {
			t.Fatalf("after DeletePrefix: %v", infos)
		}
		// Its neighbours are untouched.
		if got := read(t, s, "tenants/ab/photos/cc/3"); got != "data-tenants/ab/photos/cc/3" {
			t.Fatalf("neighbour: %q", got)
		}
		read(t, s, "offboarding/a/z.zip")
		if err := s.DeletePrefix(ctx, "tenants/a/"); err != nil {
			t.Fatalf("DeletePrefix again: %v", err)
		}
	})

	t.Run("presign", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "offboarding/t/archive.zip", "PK-archive")
		u, err := s.PresignGet(ctx, "offboarding/t/archive.zip", 2*time.Second, "archive.zip", "application/zip")
		if s.Kind() == blob.BackendLocal {
			if !errors.Is(err, blob.ErrNoPresign) {
				t.Fatalf("local PresignGet: %q %v, want ErrNoPresign", u, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		get := func() (*http.Response, string) {
			res, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}
		res, body := get()
		if res.StatusCode != 200 || body != "PK-archive" {
			t.Fatalf("presigned GET: %d %q", res.StatusCode, body)
		}
		if got := res.Header.Get("Content-Disposition"); !strings.Contains(got, `filename="archive.zip"`) {
			t.Errorf("Content-Disposition %q", got)
		}
		// Tampering with the key breaks the signature.
		bad := strings.Replace(u, "archive.zip?", "other.zip?", 1)
		if res, err := http.Get(bad); err != nil || res.StatusCode < 400 {
			t.Fatalf("tampered presigned URL: %v %v", res, err)
		} else {
			res.Body.Close()
		}
		time.Sleep(3 * time.Second)
		if res, body := get(); res.StatusCode != http.StatusForbidden {
			t.Fatalf("expired presigned GET: %d %q, want 403", res.StatusCode, body)
		}
	})
}
