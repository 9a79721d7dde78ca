package billing

import "slices"

// Categories lists the categories a journal of kind k may have, the default first (for forms).
func Categories(k Kind) []string { return slices.Clone(categories[k]) }
