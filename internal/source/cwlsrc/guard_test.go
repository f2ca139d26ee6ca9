package cwlsrc

import (
	"github.com/trailwatch/trailwatch/internal/source/awstest"
	"github.com/trailwatch/trailwatch/internal/store"
)

// The store's checkpoints, and the tests' in-memory ones, serve the source.
var (
	_ Checkpoints = store.Store(nil)
	_ Checkpoints = (*awstest.Checkpoints)(nil)
)
