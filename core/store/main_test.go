package store_test

import (
	"testing"

	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
