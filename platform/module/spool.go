package module

import (
	"io"
	"os"

	"github.com/gofiber/fiber/v2"
)

// Spool is a temporary file a download is written to first and then sent from: a failure while
// writing is still a problem or an error page, the data's snapshot is not held open while a slow
// client downloads, and nothing is held in memory. It is unlinked at once where the system
// allows, so that nothing (personal data included) stays behind if the process dies.
type Spool struct {
	*os.File
	// Dir is the folder it lives in (for the writer's own temporary files).
	Dir     string
	removed bool
}

// NewSpool makes a spool in dir (created if missing; "" is the system's temporary folder).
func NewSpool(dir string) (*Spool, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "download-*")
	if err != nil {
		return nil, err
	}
	// On Unix the open file lives on without a name, and goes with the process.
	return &Spool{File: f, Dir: dir, removed: os.Remove(f.Name()) == nil}, nil
}

// Close closes the file and removes it, if it still has a name.
func (s *Spool) Close() error {
	err := s.File.Close()
	if !s.removed {
		os.Remove(s.Name())
	}
	return err
}

// Send answers c with what was written, as an attachment named name of mediaType, not to be
// cached. fasthttp closes the spool (and so removes it) once it is sent or the request is
// dropped; on an error here the spool is closed.
func (s *Spool) Send(c *fiber.Ctx, name, mediaType string) error {
	size, err := s.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = s.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, mediaType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Response().SetBodyStream(s, int(size))
	return nil
}
