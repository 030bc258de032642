package app

import (
	"context"

	"modelsmith/resources"
)

// SampleInfo is a sample dataset shipped with the app.
type SampleInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Samples lists the sample datasets shipped with the app.
func Samples() []SampleInfo {
	var out []SampleInfo
	for _, s := range resources.Samples() {
		out = append(out, SampleInfo{Name: s.Name, Description: s.Description})
	}
	return out
}

// AddSample stores the sample dataset name in the workspace (a no-op when an
// identical version is there already) and returns it: a workspace created
// empty, or one whose sample was deleted, gets it back in one click.
func (s *Studio) AddSample(ctx context.Context, name string, progress func(Progress)) (Dataset, error) {
	for _, sample := range resources.Samples() {
		if sample.Name == name {
			res, err := s.importSample(ctx, sample, progress)
			return res.Dataset, err
		}
	}
	return Dataset{}, usageErrorf("no sample dataset %q", name)
}
