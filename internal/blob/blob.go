package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
)

// Store keeps objects by key. Every method takes a valid key (CheckKey) or prefix; a missing
// object is an error that satisfies errors.Is(err, fs.ErrNotExist).
type Store interface {
	// Put writes the object key from r, which must hold exactly size bytes, after the checks of
	// opts (size, declared type); a refused or failed Put writes nothing, and a reader that
	// gives more or fewer bytes than size is refused. An existing object is replaced whole.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error)
	// Open returns the object's bytes and what Stat says of it; the caller closes the reader.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat says what is stored under key.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Info, error)
	// DeletePrefix removes every object whose key starts with prefix (a folder: it ends in "/").
	DeletePrefix(ctx context.Context, prefix string) error
	// PresignGet returns a URL that downloads key without credentials for ttl, as an attachment
	// named filename of mediaType. A store that cannot (the local disk) returns ErrNoPresign:
	// its objects are streamed through the app instead.
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename, mediaType string) (string, error)
	// Ping checks that the store answers (the folder is there, the bucket reachable with the
	// credentials), for the readiness page.
	Ping(ctx context.Context) error
	// Kind is "local" or "s3", for logs and the readiness page.
	Kind() string
}

// Info is what a store says of an object.
type Info struct {
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// PutOptions are the checks and headers of a Put.
type PutOptions struct {
	// ContentType is the object's media type (as the caller found it from its bytes, never as a
	// client said); stored with the object where the store can, and checked against Types.
	ContentType string
	// MaxSize, when positive, is the largest object accepted (errs.TooLarge beyond).
	MaxSize int64
	// Types, when not empty, are the only content types accepted (errs.Unsupported otherwise).
	Types []string
}

// ErrNoPresign is PresignGet's answer from a store that has no URLs of its own.
var ErrNoPresign = errors.New("blob: this store cannot presign URLs; stream the object instead")

// TenantPrefix is the folder of tenant id's objects: tenants/<id>/.
func TenantPrefix(id uuid.UUID) string { return "tenants/" + id.String() + "/" }

// Size is how many bytes the objects under prefix take.
func Size(ctx context.Context, s Store, prefix string) (int64, error) {
	infos, err := s.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, i := range infos {
		n += i.Size
	}
	return n, nil
}

// check applies opts to an object of size bytes before anything is written.
func (o PutOptions) check(size int64) error {
	if size < 0 {
		return errs.E(errs.Invalid, msgSizeMismatch)
	}
	if o.MaxSize > 0 && size > o.MaxSize {
		mib := o.MaxSize >> 20
		if mib == 0 {
			mib = 1
		}
		return errs.E(errs.TooLarge, msgTooLarge, mib)
	}
	if len(o.Types) > 0 && !slices.Contains(o.Types, o.ContentType) {
		t := o.ContentType
		if t == "" {
			t = "?"
		}
		return errs.E(errs.Unsupported, msgTypeRefused, t)
	}
	return nil
}

// CheckKey refuses a key that is empty, too long, absolute, has empty, "." or ".." segments or a
// character outside letters, digits and "-_.=+" (so that a key is a safe path on every
// filesystem and needs no escaping in a URL).
func CheckKey(key string) error {
	if !validPath(key, false) {
		return errs.E(errs.Invalid, msgBadKey, truncate(key))
	}
	return nil
}

// checkPrefix is CheckKey for a prefix: empty (everything) or a valid key, optionally ending
// in "/".
func checkPrefix(prefix string) error {
	if prefix == "" || validPath(prefix, true) {
		return nil
	}
	return errs.E(errs.Invalid, msgBadKey, truncate(prefix))
}

func validPath(p string, prefix bool) bool {
	if prefix {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" || len(p) > 512 {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.=+", r)) {
				return false
			}
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// notExist is the error for a missing object.
func notExist(key string) error {
	return fmt.Errorf("blob %s: %w", key, fs.ErrNotExist)
}

// exact reads r to w, refusing anything but exactly size bytes.
func exact(w io.Writer, r io.Reader, size int64) error {
	n, err := io.Copy(w, io.LimitReader(r, size+1))
	if err != nil {
		return err
	}
	if n != size {
		return errs.E(errs.Invalid, msgSizeMismatch)
	}
	return nil
}
