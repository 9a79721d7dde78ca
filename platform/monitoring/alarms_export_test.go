package monitoring

import (
	"context"

	"github.com/cityops/cityops/platform/module"
)

// RunCasesForTest runs the case opener's loop as the server does, until ctx ends.
func RunCasesForTest(s *Service, ctx context.Context, k module.Kit) {
	s.runCases(ctx, k, CasesEvery, k.Log)
}
