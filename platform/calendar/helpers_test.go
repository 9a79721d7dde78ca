package calendar_test

import (
	"errors"
	"strconv"

	"github.com/cityops/cityops/internal/tabular"
)

func itoa(n int) string { return strconv.Itoa(n) }

func asRejected(err error, r **tabular.Rejected) bool { return errors.As(err, r) }
