package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Local keeps objects as files under a folder, a key's slashes its subfolders (the embedded
// default: one machine, nothing to run). A file is written beside its place and renamed into
// it, so that a reader never sees half an object.
type Local struct {
	root string
}

var _ Store = (*Local)(nil)

// NewLocal keeps objects under root (its folders are made as objects are written).
func NewLocal(root string) *Local { return &Local{root: filepath.Clean(root)} }

// Kind is "local".
func (*Local) Kind() string { return "local" }

// Ping checks that the folder is there.
func (l *Local) Ping(context.Context) error {
	fi, err := os.Stat(l.root)
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("blob: %s is not a folder", l.root)
	}
	return err
}

// Root is the folder the objects live in.
func (l *Local) Root() string { return l.root }

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

// Put writes key through a temporary file in its folder and renames it into place.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if err := opts.check(size); err != nil {
		return Info{}, err
	}
	path := l.path(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	werr := exact(tmp, r, size)
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = ctx.Err()
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return Info{}, fmt.Errorf("blob %s: %w", key, werr)
	}
	return l.Stat(ctx, key)
}

// Open opens key's file.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, Info, error) {
	if err := CheckKey(key); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, notExist(key)
	}
	if err != nil {
		return nil, Info{}, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, Info{}, notExist(key)
	}
	return f, Info{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC()}, nil
}

// Stat says what key's file is.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(l.path(key))
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
		return Info{}, notExist(key)
	}
	if err != nil {
		return Info{}, err
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC()}, nil
}

// Delete removes key's file.
func (l *Local) Delete(_ context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := os.Remove(l.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List walks the folder of prefix.
func (l *Local) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	// Walk from the deepest folder the prefix names in full, then filter by the prefix.
	dir := prefix
	if i := strings.LastIndexByte(dir, '/'); i >= 0 {
		dir = dir[:i]
	} else {
		dir = ""
	}
	var out []Info
	err := filepath.WalkDir(l.path(dir), func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".upload-") {
			return ctx.Err()
		}
		rel, err := filepath.Rel(l.root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || CheckKey(key) != nil {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, Info{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC()})
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// DeletePrefix removes the folder a prefix ending in "/" names, or each file a shorter prefix
// matches.
func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" || checkPrefix(prefix) != nil {
		return CheckKey(prefix)
	}
	if strings.HasSuffix(prefix, "/") {
		return os.RemoveAll(l.path(strings.TrimSuffix(prefix, "/")))
	}
	infos, err := l.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, i := range infos {
		if err := l.Delete(ctx, i.Key); err != nil {
			return err
		}
	}
	return nil
}

// PresignGet is ErrNoPresign: local objects are streamed through the app.
func (*Local) PresignGet(context.Context, string, time.Duration, string, string) (string, error) {
	return "", ErrNoPresign
}
