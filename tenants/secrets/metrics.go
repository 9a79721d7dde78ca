package secrets

import (
	"context"
	"errors"

	"github.com/cityops/cityops/internal/errs"
	"github.com/prometheus/client_golang/prometheus"
)

// VaultErrors counts the calls to Vault that failed, by kind: "unavailable" (Vault down, sealed,
// no token: operations needing keys fail), "destroyed" (a destroyed tenant key: expected after
// offboarding) and "other". The app registers it on /metrics (cityops_vault_errors_total).
var VaultErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cityops_vault_errors_total", Help: "Calls to Vault that failed, by kind (unavailable, destroyed, other).",
}, []string{"kind"})

func init() {
	for _, k := range []string{"unavailable", "destroyed", "other"} {
		VaultErrors.WithLabelValues(k) // from zero, so that rate() sees the first failure
	}
}

func countVaultError(err error) {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
	case errs.Is(err, errs.Unavailable):
		VaultErrors.WithLabelValues("unavailable").Inc()
	case errs.Is(err, errs.Destroyed):
		VaultErrors.WithLabelValues("destroyed").Inc()
	default:
		VaultErrors.WithLabelValues("other").Inc()
	}
}
