package cli

import "errors"

// runExport is `trailwatch export`.
func runExport(args []string, env *Env) (int, error) {
	return ExitFailure, errors.New("not implemented yet")
}
