# CityOps developer entry points. `make test` is what CI runs (via .ci/run).
.PHONY: test lint build run bench

# Everything: installs missing tools/packages, then gofmt, go vet,
# staticcheck and go test -race (see scripts/test.sh).
test:
	bash scripts/test.sh

# gofmt, go vet and staticcheck only.
lint:
	bash scripts/test.sh lint

build:
	go build -o bin/cityops ./app/cmd/cityops

run:
	go run ./app/cmd/cityops serve --demo

# Every benchmark once (heavy ones create 1,000 tenants or 1,000,000 cases; see docs/benchmarks.md).
bench:
	go test -run '^$$' -bench . -benchmem ./...
