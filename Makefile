# Omniphone — `make run` starts the app, `make test` runs every test.
# Both install what they need (Debian packages via apt-get when root).

SHELL := /bin/bash
.DEFAULT_GOAL := help

GO ?= go
BIN := $(CURDIR)/bin
GOLANGCI_VERSION := v2.15.0
FYNE_TOOLS_VERSION := v1.7.4
ARGS ?=
# Build tags for every build, lint, test and benchmark:
# - with_opus_c links libopus (cgo, Debian libopus-dev) for the Opus codec
#   through diago; without it accounts that list opus are refused.
# - no_emoji leaves out Fyne's bundled colour-emoji font (4 MB): Fyne parses
#   a copy of it for every text style it draws, about 15 MB of heap in the
#   idle window. Emoji and symbols come from the system's fonts instead.
# cmd/omniphone's tests build the binary with the same tags.
GOTAGS ?= with_opus_c,no_emoji
export GOTAGS

# Fyne logs "Error parsing user locale C" under the C locale.
ifeq ($(filter-out C C.UTF-8 C.utf8 POSIX,$(LANG)),)
export LANG := en_US.UTF-8
endif

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/omniphone
	@scripts/deps.sh run
	$(GO) build -tags '$(GOTAGS)' -o $(BIN)/omniphone ./cmd/omniphone

.PHONY: run
run: build ## build and start the desktop app (ARGS="--config-dir DIR" to use another profile)
	$(BIN)/omniphone $(ARGS)

.PHONY: test
test: ## run every test, with Xvfb, gnome-keyring and the other real peers
	@scripts/deps.sh test
	scripts/test.sh

.PHONY: bench
bench: ## run the benchmarks (with Linphone desktop as the anchor) and print their figures
	@scripts/deps.sh bench
	scripts/bench.sh

$(BIN)/golangci-lint:
	GOBIN=$(BIN) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

.PHONY: lint
lint: $(BIN)/golangci-lint ## go vet + golangci-lint (with the dependency-direction rules)
	@scripts/deps.sh run
	$(GO) vet -tags '$(GOTAGS)' ./...
	$(BIN)/golangci-lint run ./...

$(BIN)/fyne:
	GOBIN=$(BIN) GOFLAGS= $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)

.PHONY: package
package: build $(BIN)/fyne ## build dist/Omniphone.tar.xz for Linux with the fyne tool
	@mkdir -p dist
	$(BIN)/fyne package -os linux --exe $(BIN)/omniphone --icon assets/icon.png --app-build 1
	@# fyne's desktop entry cannot name URL schemes: ours handles tel:, callto:, sip: (SPEC C5)
	rm -rf dist/pkg && mkdir -p dist/pkg && tar -xJf Omniphone.tar.xz -C dist/pkg
	entry=$$(find dist/pkg -name ru.omniphone.app.desktop) && test -n "$$entry" && install -m 0644 assets/ru.omniphone.app.desktop "$$entry"
	tar -cJf dist/Omniphone.tar.xz -C dist/pkg $$(ls dist/pkg) && rm -rf dist/pkg Omniphone.tar.xz
	@echo "dist/Omniphone.tar.xz: unpack it and run 'sudo make install' inside to install"

.PHONY: clean
clean: ## remove built files
	rm -rf $(BIN) dist artifacts
