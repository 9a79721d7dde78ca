package tenants

import "github.com/cityops/cityops/internal/errs"

func isNotFound(err error) bool { return errs.Is(err, errs.NotFound) }
