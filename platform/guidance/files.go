package guidance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Upload is a file a request brings: a notice's attachment or a response's photo.
type Upload struct {
	Name string
	Data []byte
}

// File is a stored file of an item (kept in the object store under its owner tenant's folder,
// by its SHA-256).
type File struct {
	bun.BaseModel `bun:"table:guidance_files"`
	ID            string `bun:"id,pk" json:"id"`
	ItemID        string `bun:"item_id" json:"-"`
	Name          string `bun:"name" json:"name"`
	ContentType   string `bun:"content_type" json:"content_type"`
	Size          int64  `bun:"size" json:"size"`
	SHA256        string `bun:"sha256" json:"sha256"`
	CreatedMS     int64  `bun:"created_at" json:"-"`
}

// Limits of files.
const (
	maxFiles    = 10
	maxFileSize = 10 << 20
)

var (
	attachmentTypes = []string{"application/pdf", "image/jpeg", "image/png", "text/plain; charset=utf-8",
		"application/zip", "application/msword", "application/vnd.ms-excel"}
	photoTypes = []string{"image/jpeg", "image/png"}
)

// sniff is the file's media type from its bytes; a zip whose name says .docx or .xlsx is that.
func sniff(name string, data []byte) string {
	ct := http.DetectContentType(data)
	switch {
	case ct == "application/zip" && strings.EqualFold(path.Ext(name), ".docx"):
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ct == "application/zip" && strings.EqualFold(path.Ext(name), ".xlsx"):
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ct == "application/octet-stream" && bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		if strings.EqualFold(path.Ext(name), ".xls") {
			return "application/vnd.ms-excel"
		}
		return "application/msword"
	}
	return ct
}

// checkFiles validates uploads (count, size, name, type) before anything is stored.
func checkFiles(field string, ups []Upload, photos bool) ([]File, error) {
	if len(ups) > maxFiles {
		return nil, errs.Field(field, msgBadFile, maxFiles)
	}
	out := make([]File, len(ups))
	for i, u := range ups {
		if len(u.Data) == 0 || len(u.Data) > maxFileSize {
			return nil, errs.Field(field, msgBadFile, maxFiles)
		}
		name := path.Base(strings.ReplaceAll(u.Name, `\`, "/"))
		if name == "." || name == "/" || !okText(name, 200) {
			name = "file"
		}
		ct := sniff(name, u.Data)
		ok := slices.Contains(photoTypes, ct)
		if !photos {
			ok = ok || slices.Contains(attachmentTypes, ct) || strings.HasPrefix(ct, "application/vnd.openxmlformats-officedocument.")
		}
		if !ok {
			if photos {
				return nil, errs.Field(field, msgBadPhotoType, name)
			}
			return nil, errs.Field(field, msgBadFileType, name)
		}
		sum := sha256.Sum256(u.Data)
		out[i] = File{ID: newID(), Name: strings.Clone(name), ContentType: ct, Size: int64(len(u.Data)), SHA256: hex.EncodeToString(sum[:])}
	}
	return out, nil
}

func fileKey(tenant uuid.UUID, sum string) string {
	return blob.TenantPrefix(tenant) + "guidance/" + sum[:2] + "/" + sum
}

// putFiles stores the files' bytes (content-addressed: a file stored twice is kept once; a
// transaction that then fails leaves an unreferenced object, never a row without its bytes).
func (s *Service) putFiles(ctx context.Context, tenant uuid.UUID, fs []File, ups []Upload) error {
	if len(fs) == 0 {
		return nil
	}
	if s.blobs == nil {
		return errs.E(errs.Unavailable, msgNoBlobs)
	}
	for i, f := range fs {
		if _, err := s.blobs.Put(ctx, fileKey(tenant, f.SHA256), bytes.NewReader(ups[i].Data), f.Size,
			blob.PutOptions{ContentType: f.ContentType, MaxSize: maxFileSize}); err != nil {
			return err
		}
	}
	return nil
}

// insertFiles records fs as item's files.
func insertFiles(ctx context.Context, db bun.IDB, item string, fs []File, now int64) error {
	for i := range fs {
		fs[i].ItemID, fs[i].CreatedMS = item, now
	}
	if len(fs) == 0 {
		return nil
	}
	_, err := db.NewInsert().Model(&fs).Exec(ctx)
	return err
}

// filesOf reads the files of items, by item.
func filesOf(ctx context.Context, db bun.IDB, items []string) (map[string][]File, error) {
	out := map[string][]File{}
	if len(items) == 0 {
		return out, nil
	}
	var fs []File
	if err := db.NewSelect().Model(&fs).Where("item_id IN (?)", bun.List(items)).OrderExpr("created_at, name, id").Scan(ctx); err != nil {
		return nil, err
	}
	for _, f := range fs {
		out[f.ItemID] = append(out[f.ItemID], f)
	}
	return out, nil
}

// findFile reads item's file id.
func findFile(ctx context.Context, db bun.IDB, item, id string) (*File, error) {
	f := new(File)
	err := db.NewSelect().Model(f).Where("id = ? AND item_id = ?", id, item).Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, msgNoFile)
	}
	return f, nil
}

// openFile opens a stored file of tenant.
func (s *Service) openFile(ctx context.Context, tenant uuid.UUID, f *File) (io.ReadCloser, error) {
	if s.blobs == nil {
		return nil, errs.E(errs.Unavailable, msgNoBlobs)
	}
	r, _, err := s.blobs.Open(ctx, fileKey(tenant, f.SHA256))
	if err != nil {
		return nil, errs.Wrap(err, errs.NotFound, msgNoFile)
	}
	return r, nil
}
