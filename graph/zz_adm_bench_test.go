package graph

import (
	"context"
	"testing"
)

func BenchmarkAdmitContended(b *testing.B) {
	a := NewAdmission(8, 64).withCeiling(10_000)
	b.SetParallelism(32) // 64 goroutines on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if release, ok := a.admit(context.Background(), 10, "one"); ok {
				release()
			}
		}
	})
}
