package domain

import (
	"cmp"
	"maps"
	"slices"
)

// MonthRange is a range of imprisonment in months, both ends included.
type MonthRange struct{ Min, Max int }

// StatutoryImprisonment is the imprisonment the Criminal Code sets for the
// articles whose sentences the monitoring mechanism compares with the law
// (docs/domain.md, "Criminal proceedings"): trafficking of adults (110/a),
// 8 to 15 years; trafficking of minors (128/b), 10 to 20 years. The other
// articles' ranges are not kept: a sentence under them is compared with
// nothing (statistics' NO_RANGE).
var StatutoryImprisonment = map[Article]MonthRange{
	ArticleCc110a: {Min: 8 * 12, Max: 15 * 12},
	ArticleCc128b: {Min: 10 * 12, Max: 20 * 12},
}

// RangedArticlesBySeverity are the articles of StatutoryImprisonment, the
// most severe first (the higher minimum, then the higher maximum). A
// proceeding charged under several is sentenced against the most severe:
// a conviction as charged in a proceeding that charges trafficking of a
// minor is measured against 128/b's range.
func RangedArticlesBySeverity() []Article {
	return slices.SortedFunc(maps.Keys(StatutoryImprisonment), func(a, b Article) int {
		ra, rb := StatutoryImprisonment[a], StatutoryImprisonment[b]
		return cmp.Or(cmp.Compare(rb.Min, ra.Min), cmp.Compare(rb.Max, ra.Max), cmp.Compare(a, b))
	})
}

// MaxCompensationLek is the most compensation one court decision may
// order, in lek: a trillion, about ten billion euros, near half of
// Albania's yearly output and far above any award a court makes, so that
// no real amount is refused. Without a bound an amount took anything 64
// bits hold, and two of 5·10^18 lek in one cell overflowed the statistics'
// sum, failing prosecutionMeasures for every caller (a hunt over HTTP);
// bounded, the sum of nine million decisions still fits.
const MaxCompensationLek int64 = 1_000_000_000_000
