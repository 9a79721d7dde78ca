package blob_test

import (
	"testing"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/blob/blobtest"
)

func TestLocal(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return blob.NewLocal(t.TempDir())
	})
}

// TestS3 runs the same suite against a real S3 server (versitygw), one bucket per subtest.
func TestS3(t *testing.T) {
	srv := blobtest.MustStart(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return blobtest.MustS3(t, srv) })
}
