package cases

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Photo is a photo of a case (before, during or after handling). Its bytes live in the object
// store under the tenant's prefix, named by their SHA-256 (photoKey).
type Photo struct {
	bun.BaseModel `bun:"table:case_photos"`
	ID            string    `bun:"id,pk" json:"id"`
	CaseID        string    `bun:"case_id" json:"case_id"`
	SHA256        string    `bun:"sha256" json:"sha256"`
	MediaType     string    `bun:"media_type" json:"media_type"`
	Size          int64     `bun:"size" json:"size"`
	UploadedBy    string    `bun:"uploaded_by" json:"uploaded_by"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// sniff returns the media type of a JPEG, PNG or WebP image from its magic bytes, "" otherwise.
// The client's Content-Type is not believed.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && bytes.Equal(b[:3], []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case len(b) >= 8 && bytes.Equal(b[:8], []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// photoTypes are the media types sniff recognises, the only ones the object store takes.
var photoTypes = []string{"image/jpeg", "image/png", "image/webp"}

// photoKey is where the photo of SHA-256 sum lives: tenants/<tenant>/photos/<first two>/<sum>.
func photoKey(tenant uuid.UUID, sum string) string {
	return blob.TenantPrefix(tenant) + "photos/" + sum[:2] + "/" + sum
}

// AddPhoto stores a photo of case id. The file is written (content-addressed, so a retry or the
// same photo twice costs nothing) before the row; a failed transaction leaves at most an
// unreferenced file, never a row without its file.
func (s *Service) AddPhoto(ctx context.Context, id string, data []byte) (*Photo, error) {
	return s.addPhoto(ctx, id, data, nil)
}

// addPhoto is AddPhoto; then, when not nil, runs in the transaction that inserts the photo's
// row, after it (bindPhotos records the photo against its report's key so).
func (s *Service) addPhoto(ctx context.Context, id string, data []byte, then func(ctx context.Context, db bun.IDB, p *Photo) error) (*Photo, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.scope.ReadOnly {
		return nil, errs.E(errs.Forbidden, msgYourAccessReadOnly)
	}
	if int64(len(data)) > s.maxPhoto {
		return nil, errs.E(errs.TooLarge, msgPhotoMayMostMib, s.maxPhoto>>20)
	}
	mt := sniff(data)
	if mt == "" {
		return nil, errs.E(errs.Unsupported, msgPhotosJpegPngWebpImages)
	}
	// Check the case before touching the disk, and again in the writing transaction.
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		c, err := findCase(ctx, db, id)
		if err != nil {
			return err
		}
		return photoAllowed(c, a)
	}); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	hexsum := hex.EncodeToString(sum[:])
	key := photoKey(a.scope.Tenant.ID, hexsum)
	if _, err := s.blobs.Stat(ctx, key); errors.Is(err, fs.ErrNotExist) {
		// The store checks size and type again before it writes (the last line, whatever the
		// caller).
		if _, err := s.blobs.Put(ctx, key, bytes.NewReader(data), int64(len(data)),
			blob.PutOptions{ContentType: mt, MaxSize: s.maxPhoto, Types: photoTypes}); err != nil {
			return nil, fmt.Errorf("photo: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("photo: %w", err)
	}
	p := &Photo{ID: uuid.NewString(), CaseID: id, SHA256: hexsum, MediaType: mt, Size: int64(len(data)), UploadedBy: a.id, CreatedAt: s.clock()}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		c, err := findCase(ctx, db, id)
		if err != nil {
			return err
		}
		if err := photoAllowed(c, a); err != nil {
			return err
		}
		if _, err = db.NewInsert().Model(p).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		if then != nil {
			return then(ctx, db, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// FindPhoto returns photo pid of case id and its bytes.
func (s *Service) FindPhoto(ctx context.Context, id, pid string) (*Photo, []byte, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	p := &Photo{}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		err := db.NewSelect().Model(p).Where("id = ? AND case_id = ?", pid, id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, msgNoPhotoCase, textutil.Truncate(pid, 40), textutil.Truncate(id, 40))
		}
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, nil, err
	}
	if !validSum(p.SHA256) {
		return nil, nil, fmt.Errorf("photo %s: stored sum %q is not a SHA-256", p.ID, p.SHA256)
	}
	r, _, err := s.blobs.Open(ctx, photoKey(a.scope.Tenant.ID, p.SHA256))
	if err != nil {
		return nil, nil, fmt.Errorf("photo %s: %w", p.ID, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, p.Size+1))
	if err != nil {
		return nil, nil, fmt.Errorf("photo %s: %w", p.ID, err)
	}
	return p, data, nil
}

// photoAllowed refuses photos on a closed or voided case, except from the inspector who handled
// it on the spot (a self-handled case is closed at once; its photos follow).
func photoAllowed(c *Case, a actor) error {
	if c.State.Final() && !(c.SelfHandled && c.ReportedBy == a.id) {
		return errs.E(errs.Conflict, msgCaseNoMorePhotos, c.Number, c.State)
	}
	return nil
}

// PhotoStep is the tenant provisioning step of the tenant's objects: Run has nothing to make (a
// prefix needs no folder made), Undo (at offboarding, after the export) removes every object
// under the tenant's prefix, its photos first of all, since photos of the street may show
// people and number plates.
type PhotoStep struct{ blobs blob.Store }

// PhotoBytes is how many bytes t's case photos take in the object store.
func (s *Service) PhotoBytes(ctx context.Context, t *tenants.Tenant) (int64, error) {
	return blob.Size(ctx, s.blobs, blob.TenantPrefix(t.ID)+"photos/")
}

// PhotoStep returns the service's provisioning step.
func (s *Service) PhotoStep() *PhotoStep { return &PhotoStep{blobs: s.blobs} }

// Name is the step's name in the provisioning state machine.
func (*PhotoStep) Name() string { return "case_photos" }

// Run does nothing; it stays a step so that Undo runs at offboarding.
func (p *PhotoStep) Run(context.Context, *tenants.Tenant) error { return nil }

// Undo removes the tenant's objects; running it again is harmless.
func (p *PhotoStep) Undo(ctx context.Context, t *tenants.Tenant) error {
	return p.blobs.DeletePrefix(ctx, blob.TenantPrefix(t.ID))
}

// PhotoExport puts the photos of a tenant's cases into its export (tenants.Store.Export, and so
// offboarding, which removes them afterwards): each photo as
// case_photos/<case number>/<photo id>.<jpg|png|webp>, its bytes as stored, with the photo's
// row (id, case, uploader, time, type) as the file's metadata.
type PhotoExport struct{ blobs blob.Store }

// PhotoExport returns the service's export source of photos.
func (s *Service) PhotoExport() *PhotoExport { return &PhotoExport{blobs: s.blobs} }

var photoExt = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

// Files hands every photo of tenant t to add, oldest first. A photo whose file is gone is
// listed as missing.
func (p *PhotoExport) Files(ctx context.Context, t *tenants.Tenant, db bun.IDB, add func(tenants.ExportFile, io.Reader) error) error {
	var rows []struct {
		ID         string    `bun:"id"`
		CaseID     string    `bun:"case_id"`
		SHA256     string    `bun:"sha256"`
		MediaType  string    `bun:"media_type"`
		UploadedBy string    `bun:"uploaded_by"`
		CreatedAt  time.Time `bun:"created_at"`
		Number     string    `bun:"number"`
	}
	if err := db.NewRaw("SELECT p.id, p.case_id, p.sha256, p.media_type, p.uploaded_by, p.created_at, c.number "+
		"FROM case_photos AS p JOIN cases AS c ON c.id = p.case_id ORDER BY p.created_at, p.id").Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		f := tenants.ExportFile{
			Path:      "case_photos/" + r.Number + "/" + r.ID + photoExt[r.MediaType],
			MediaType: r.MediaType,
			Meta: map[string]any{"photo_id": r.ID, "case_id": r.CaseID, "case_number": r.Number, "sha256": r.SHA256,
				"uploaded_by": r.UploadedBy, "created_at": r.CreatedAt.UTC()},
		}
		if !validSum(r.SHA256) {
			if err := add(f, nil); err != nil {
				return err
			}
			continue
		}
		file, _, err := p.blobs.Open(ctx, photoKey(t.ID, r.SHA256))
		if errors.Is(err, fs.ErrNotExist) {
			if err := add(f, nil); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		err = add(f, file)
		file.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// sha256Hex is the hex SHA-256 of b, the name a photo is stored under.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// validSum reports whether s is a hex SHA-256, as every stored photo's name is.
func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

var (
	_ tenants.Step        = (*PhotoStep)(nil)
	_ tenants.Undo        = (*PhotoStep)(nil)
	_ tenants.ExportFiles = (*PhotoExport)(nil)
)
