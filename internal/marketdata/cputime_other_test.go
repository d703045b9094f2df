//go:build !unix

package marketdata

import "time"

func processCPU() time.Duration { return 0 }
