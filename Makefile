# fin: Unix filters for deep learning on financial data.
#   make demo        install missing build dependencies, build, run a pipeline on data/
#   make check       the same install step, then every test and the small experiment of examples/
#   make check-asan  every test again, built with AddressSanitizer and UBSan (gcc), then
#                    with clang's integer and float-cast checks; the threads under
#                    ThreadSanitizer
#   make fuzz        build the libFuzzer targets and run each FUZZ_SECONDS (tests/fuzz/README.md)
#   make fuzz-build  only build them, into build-fuzz/
#   make fuzz-merge  add what make fuzz found that reaches new coverage to tests/fuzz/corpus
#   make bench       benchmarks against the reference tools (see bench/README.md)
#   make install PREFIX=/usr/local

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
CLANG ?= clang
PYTHON ?= /usr/bin/python3

CFLAGS ?= -O3 -g
CFLAGS += -std=c11 -pthread -D_GNU_SOURCE -fno-math-errno -Wall -Wextra -Wshadow -Wstrict-prototypes -Ilib
# GSL's CBLAS interface is provided by OpenBLAS, not by gslcblas.
LDLIBS = -lcsv -lcjson -lgsl -lopenblas -lz -lzstd -lsodium -lm -lpthread -ldl
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
# clang's checks of integer arithmetic and float-to-integer casts, which gcc
# lacks. Left out, as they flag defined behaviour the code relies on:
# unsigned-integer-overflow (countdown loops `while (i--)`, negating an
# unsigned magnitude, Fibonacci hashing) and unsigned-shift-base (bits
# shifted out on purpose by the unit tests' xorshift generators).
ifeq ($(SAN),integer)
INTEGER_SAN = -fsanitize=float-cast-overflow,integer \
	-fno-sanitize=unsigned-integer-overflow,unsigned-shift-base
CFLAGS += $(INTEGER_SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += $(INTEGER_SAN)
endif
# ThreadSanitizer, for the threads that share a batch (make check-asan runs
# their tests under it).
ifeq ($(SAN),thread)
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif
# The libFuzzer targets (clang): libfin instrumented for coverage, ASan and UBSan.
ifeq ($(SAN),fuzzer)
CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=fuzzer,address,undefined
endif

BUILD_DEPS = gcc make pkg-config libcsv-dev libcjson-dev libgsl-dev libopenblas-dev libcmocka-dev \
	zlib1g-dev libzstd-dev libsodium-dev libplplot-dev plplot-driver-cairo libopenmpi-dev openmpi-bin
TEST_DEPS = python3 python3-pandas zstd librsvg2-bin time
CLANG_DEPS = clang libclang-rt-dev llvm
BENCH_DEPS = python3-numpy python3-pandas python3-torch python3-sklearn time parallel

TOOLS = fin-window fin-train fin-predict fin-anomaly fin-cluster fin-gen fin-backtest fin-eval fin-inspect \
	fin-explain fin-mask fin-avg fin-plot
LIB_SRC = $(wildcard lib/*/*.c)
LIB_HDR = $(wildcard lib/*/*.h)
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BINS = $(TOOLS:%=$(BUILD)/bin/%)
FUZZ_TARGETS = fuzz_csv fuzz_model fuzz_detector fuzz_cluster fuzz_arch
FUZZ_BIN = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-clang demo check check-asan run-tests run-tsan examples-check fuzz fuzz-build fuzz-bins fuzz-merge \
	bench install clean

all: $(BINS)

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The recurrent layers' element-wise passes: gcc vectorises them only when it
# may evaluate float operations that a clamp in exp_lane would skip, which
# could raise an exception flag no code here reads. Values are unchanged.
$(BUILD)/lib/nn/recurrent.o $(BUILD)/lib/nn/attention.o: CFLAGS += -fno-trapping-math

# PLplot: only the plotting core includes it, and only fin-plot links it.
$(BUILD)/lib/plot/%.o: CFLAGS += $(shell pkg-config --cflags plplot)
# Open MPI's header: libmpi itself is loaded only under mpirun (lib/par/dist.c).
$(BUILD)/lib/par/%.o: CFLAGS += $(shell pkg-config --cflags ompi-c)
$(BUILD)/bin/fin-plot: LDLIBS += $(shell pkg-config --libs plplot)

$(BUILD)/libfin.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: cmd/%.c $(BUILD)/libfin.a $(LIB_HDR) | $(BUILD)/bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfin.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/*.h $(BUILD)/libfin.a $(LIB_HDR) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfin.a -lcmocka $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/*.h $(BUILD)/libfin.a $(LIB_HDR) | $(BUILD)/fuzz
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfin.a $(LDLIBS)

$(BUILD)/bin $(BUILD)/tests $(BUILD)/fuzz:
	mkdir -p $@

# Installs what is missing, from Debian's archive (needs root).
DEPS = $(BUILD_DEPS) $(TEST_DEPS)
deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $$missing || { apt-get update -q && apt-get install -y -q $$missing; }; \
	fi

deps-clang:
	$(MAKE) deps DEPS="$(BUILD_DEPS) $(TEST_DEPS) $(CLANG_DEPS)"

demo: deps
	$(MAKE) all
	@echo '== 5-day windows of DAX log returns, normalised within each window, next-day target:'
	$(BUILD)/bin/fin-window -c DAX -k t --size 5 --transform logret --norm zscore --target next \
		data/eustockmarkets.csv | head -n 4
	@echo '== gold prices with gaps: 10-day log-return windows, 5-day direction target, gaps skipped:'
	$(BUILD)/bin/fin-window -c price -k day --size 10 --horizon 5 --transform logret \
		--target direction --na skip data/gold_daily.csv | cut -d, -f1,9-12 | head -n 4
	@echo '== a 1-D CNN on 20-day DAX log-return windows; validation is the last 20% of days:'
	$(BUILD)/bin/fin-window -c DAX -k t --size 20 --transform logret data/eustockmarkets.csv \
		> $(BUILD)/dax-windows.csv
	$(BUILD)/bin/fin-train --model cnn -k t --epochs 30 --patience 5 -o $(BUILD)/dax-cnn.json \
		$(BUILD)/dax-windows.csv
	@echo '== its forecasts of the last days (prediction next to the realised y):'
	$(BUILD)/bin/fin-predict -m $(BUILD)/dax-cnn.json --keep $(BUILD)/dax-windows.csv \
		| cut -d, -f1,22,23 | tail -n 3
	@echo '== credit risk: logistic regression on the German credit data:'
	$(BUILD)/bin/fin-train -y Class --model logistic --l2 0.01 -q -o $(BUILD)/credit.json \
		data/german_credit.csv
	$(BUILD)/bin/fin-predict -m $(BUILD)/credit.json --keep data/german_credit.csv \
		| cut -d, -f10,63- | head -n 4
	@echo '== ROC curves of it and of an MLP on the last 200 applicants, which neither was fitted on, to $(BUILD)/credit-roc.svg:'
	head -n 801 data/german_credit.csv > $(BUILD)/credit-first800.csv
	(head -n 1 data/german_credit.csv; tail -n 200 data/german_credit.csv) > $(BUILD)/credit-last200.csv
	$(BUILD)/bin/fin-train -y Class -c '!Class' --model mlp --val 0 --epochs 20 -q \
		-o $(BUILD)/credit-mlp.json $(BUILD)/credit-first800.csv
	$(BUILD)/bin/fin-predict -m $(BUILD)/credit.json -k Class $(BUILD)/credit-last200.csv \
		| cut -d, -f1,2 > $(BUILD)/credit-logistic.csv
	$(BUILD)/bin/fin-predict -m $(BUILD)/credit-mlp.json -k Class $(BUILD)/credit-last200.csv \
		| cut -d, -f2 | paste -d, $(BUILD)/credit-logistic.csv - \
		| sed '1s/.*/Class,logistic,mlp/' > $(BUILD)/credit-scores.csv
	$(BUILD)/bin/fin-plot roc --actual Class --positive Bad --score logistic,mlp \
		--title 'German credit: the last 200 applicants' -o $(BUILD)/credit-roc.svg \
		$(BUILD)/credit-scores.csv
	@echo '== anomaly screening: an isolation forest fitted on the first 700 applicants scores the rest:'
	head -n 701 data/german_credit.csv > $(BUILD)/credit-history.csv
	(head -n 1 data/german_credit.csv; tail -n 300 data/german_credit.csv) > $(BUILD)/credit-new.csv
	$(BUILD)/bin/fin-anomaly fit --method iforest --contamination 0.05 -o $(BUILD)/detector.json \
		$(BUILD)/credit-history.csv
	$(BUILD)/bin/fin-anomaly score -m $(BUILD)/detector.json --label Class --positive Bad \
		$(BUILD)/credit-new.csv | head -n 4
	@echo '== segments: k-means on the code of an autoencoder, k from 2 to 6 by silhouette:'
	$(BUILD)/bin/fin-train --model autoencoder --bottleneck 4 -c '!Class' --epochs 30 -q \
		-o $(BUILD)/credit-ae.json data/german_credit.csv
	$(BUILD)/bin/fin-cluster --clusters 2-6 --embed $(BUILD)/credit-ae.json -k Class \
		-o $(BUILD)/segments.json data/german_credit.csv | head -n 4
	@echo '== walk-forward: the CNN retrained every 100 days on all the past, its forecasts traded at 5 bp:'
	$(BUILD)/bin/fin-backtest --train-size 1000 --test-size 100 --trade --cost 5 --periods-per-year 260 \
		$(BUILD)/dax-windows.csv -- fin-train --model cnn -k t --epochs 30 --patience 5 \
		> $(BUILD)/dax-oos.csv
	$(BUILD)/bin/fin-eval --format table --actual y --pred prediction $(BUILD)/dax-oos.csv \
		| grep -E '^(n|rmse|rmse_naive|mase|theil_u|dm\.statistic|dm\.p_value) '
	@echo '== the out-of-sample forecasts against the realised returns, to $(BUILD)/dax-oos.svg:'
	$(BUILD)/bin/fin-plot series -k t -c y,prediction --title 'DAX: walk-forward CNN forecasts' \
		-o $(BUILD)/dax-oos.svg $(BUILD)/dax-oos.csv
	@echo '== synthetic markets: a GAN on 20-day windows of S&P 500 returns, then the stylized facts:'
	$(BUILD)/bin/fin-window -c ret -k day --size 20 --transform level --target none \
		data/sp500dge_returns.csv > $(BUILD)/sp500-windows.csv
	$(BUILD)/bin/fin-train --model gan -k day -q -o $(BUILD)/sp500-gan.json $(BUILD)/sp500-windows.csv
	$(BUILD)/bin/fin-gen -m $(BUILD)/sp500-gan.json --samples 2000 --seed 7 --paths -q > $(BUILD)/sp500-synthetic.csv
	$(BUILD)/bin/fin-gen --facts -c ret data/sp500dge_returns.csv $(BUILD)/sp500-synthetic.csv \
		| grep -E '^(fact|sd|skew|excess|acf_1 |acf_abs_(1|5|10|20) |leverage_1 )'
	@echo '== their autocorrelations by lag, real and synthetic, to $(BUILD)/sp500-facts.svg:'
	$(BUILD)/bin/fin-gen --facts --format csv -c ret data/sp500dge_returns.csv \
		$(BUILD)/sp500-synthetic.csv \
		| $(BUILD)/bin/fin-plot acf --title 'S&P 500: real and GAN returns' \
			-o $(BUILD)/sp500-facts.svg

check: deps
	$(MAKE) run-tests

check-asan: deps-clang
	$(MAKE) BUILD=build-asan SAN=1 run-tests
	$(MAKE) BUILD=build-ubsan-clang CC=$(CLANG) SAN=integer run-tests
	$(MAKE) BUILD=build-tsan SAN=thread run-tsan

# The threads sharing a batch, under ThreadSanitizer: the unit test, and
# fin-train on three threads with dropout through a CNN and a GRU.
run-tsan: $(BUILD)/tests/test_team $(BUILD)/bin/fin-window $(BUILD)/bin/fin-train
	TSAN_OPTIONS=halt_on_error=1 $(BUILD)/tests/test_team
	out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	$(BUILD)/bin/fin-window -c DAX -k t --size 30 --transform logret -q \
		-o "$$out/w.csv" data/eustockmarkets.csv && \
	for m in cnn gru; do \
		TSAN_OPTIONS=halt_on_error=1 $(BUILD)/bin/fin-train --model $$m -k t \
			--epochs 2 --dropout 0.2 --threads 3 -q -o "$$out/$$m.json" \
			"$$out/w.csv" || exit 1; \
	done

run-tests: $(BINS) $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; $$t || exit 1; done
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/malformed_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/hostile_input_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/train_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/overfit_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/glm_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/gan_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/recurrent_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/transformer_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/mpi_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/mpi_anomaly_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/mpi_cluster_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/anomaly_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/anomaly_stream_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/explain_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/cluster_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/cluster_stream_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/mask_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/fedavg_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/dp_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/gen_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/eval_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/plot_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_plots_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/backtest_cli_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/time_order_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/panel_window_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/signal_eval_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/panel_backtest_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_panel_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/time_key_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/options_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/hostile_model_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/categorical_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_gan_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_dax_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_explain_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_mask_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/readme_federated_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/output_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/compressed_input_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/na_values_test.py
	FIN_BIN=$(BUILD)/bin $(PYTHON) tests/examples_test.py

# The small experiment of examples/Makefile, into a temporary directory: its
# leaderboard must hold one row for each data set and model (tests/examples_test.py,
# which make check runs, checks its figures too).
EXAMPLE_ROWS = credit,logistic credit,mlp dax,cnn dax,gru dax,linear dax,mlp \
	sp500,cnn sp500,gru sp500,linear sp500,mlp
examples-check: $(BINS)
	out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	$(MAKE) -C examples SMALL=1 FIN=$(abspath $(BUILD)/bin) OUT="$$out" && \
	printf '%s\n' $(EXAMPLE_ROWS) > "$$out/expected" && \
	tail -n +2 "$$out/leaderboard.csv" | cut -d, -f1,2 | LC_ALL=C sort \
		| diff -u "$$out/expected" - && \
	echo 'examples-check: one leaderboard row for each data set and model'

fuzz-build: deps-clang
	$(MAKE) BUILD=build-fuzz CC=$(CLANG) SAN=fuzzer fuzz-bins

fuzz-bins: $(FUZZ_BIN)

fuzz: fuzz-build
	tests/fuzz/fuzz.sh run build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-merge: fuzz-build
	tests/fuzz/fuzz.sh merge build-fuzz $(FUZZ_TARGETS)

bench:
	$(MAKE) deps DEPS="$(BUILD_DEPS) $(BENCH_DEPS)"
	$(MAKE) all
	$(PYTHON) bench/window_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/panel_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/train_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/train_bench.py --size 20 --bin $(BUILD)/bin
	$(PYTHON) bench/rnn_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/transformer_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/anomaly_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/cluster_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/gan_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/mask_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/dp_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/mpi_bench.py --bin $(BUILD)/bin
	$(PYTHON) bench/spread_bench.py --bin $(BUILD)/bin

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/man7/*.7 $(DESTDIR)$(PREFIX)/share/man/man7

clean:
	rm -rf build build-asan build-ubsan-clang build-fuzz
