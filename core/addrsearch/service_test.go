package addrsearch_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
)

// source is a register of one street whose version a test changes.
type source struct {
	version    string
	reads      int
	successors map[string]string
}

func (s *source) AddressRegisterVersion(context.Context) (string, error) { return s.version, nil }
func (s *source) AddressObjects(_ context.Context, fn func(addrsearch.Object) error) error {
	s.reads++
	return fn(addrsearch.Object{Region: 99, ID: 1, GUID: "g1", Level: 8, Name: "Горького", Type: "ул", Path: []int64{1}})
}
func (s *source) AddressTypes(context.Context) (addrsearch.Types, error) {
	return addrsearch.Types{}, nil
}
func (s *source) Houses(context.Context, addrsearch.HouseQuery) ([]addrsearch.House, error) {
	return nil, nil
}
func (s *source) HousesByID(context.Context, string, int) ([]addrsearch.House, error) {
	return nil, nil
}
func (s *source) AddressSuccessor(_ context.Context, id string) (string, error) {
	return s.successors[id], nil
}
func (s *source) Flats(context.Context, int, []int64, string) ([]addrsearch.Flat, error) {
	return nil, nil
}
func (s *source) FlatsByID(context.Context, string, int) ([]addrsearch.Flat, []addrsearch.House, error) {
	return nil, nil, nil
}
func (s *source) Steads(context.Context, addrsearch.HouseQuery) ([]addrsearch.Stead, error) {
	return nil, nil
}
func (s *source) SteadsByID(context.Context, string, int) ([]addrsearch.Stead, error) {
	return nil, nil
}

// TestFindRetiredID: a retired id finds the object that took its place;
// an id neither served nor retired finds nothing.
func TestFindRetiredID(t *testing.T) {
	t.Parallel()
	svc := addrsearch.NewService(&source{version: "1", successors: map[string]string{"g0": "g1"}}, nil)
	got, err := svc.FindAddresses(context.Background(), "g0", 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "g1", got[0].FIASID)
	got, err = svc.FindAddresses(context.Background(), "g2", 1)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestServiceBuildsOnDemand: a replica reads the register at its first
// lookup, not at start, and again only when the register changed.
func TestServiceBuildsOnDemand(t *testing.T) {
	t.Parallel()
	src := &source{version: "1"}
	svc := addrsearch.NewService(src, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx, time.Millisecond); close(done) }()
	time.Sleep(20 * time.Millisecond)
	require.Zero(t, src.reads, "no lookup, no index")
	cancel()
	<-done

	got, err := svc.SuggestAddresses(context.Background(), core.AddressQuery{Query: "горь"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, 1, src.reads)
	require.NoError(t, svc.Refresh(context.Background()))
	require.Equal(t, 1, src.reads, "the same version: nothing read again")
	src.version = "2"
	require.NoError(t, svc.Refresh(context.Background()))
	require.Equal(t, 2, src.reads)
}
