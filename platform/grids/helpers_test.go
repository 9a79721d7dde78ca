package grids_test

import (
	"errors"

	"github.com/cityops/cityops/internal/tabular"
)

func asRejected(err error, r **tabular.Rejected) bool { return errors.As(err, r) }
