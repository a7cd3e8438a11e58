#!/bin/sh
# Writes the named seeds in tests/fuzz/corpus/ from data/, tests/malformed/
# and files made by the tools themselves, each kept to a few KB: tiny
# networks, few rows and epochs. Run from the top of the tree after
# `make all`; the tools are deterministic, so the same files come out. The
# inputs make fuzz-merge added (named by their SHA-1) are left alone.
#   tests/fuzz/make_seeds.sh [BIN_DIR]
set -eu
bin=${1:-build/bin}
out=tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
mkdir -p "$out/fuzz_csv" "$out/fuzz_model" "$out/fuzz_detector" "$out/fuzz_cluster" \
	"$out/fuzz_arch"

# fuzz_csv: a column list on the first line, then the CSV.
csv_seed() { # NAME SPEC FILE
	{ printf '%s\n' "$2"; cat "$3"; } > "$out/fuzz_csv/$1"
}
head -n 40 data/eustockmarkets.csv > "$tmp/dax.csv"
head -n 40 data/gold_daily.csv > "$tmp/gold.csv"
head -n 30 data/msft.csv > "$tmp/msft.csv"
head -n 40 data/sp500dge_returns.csv > "$tmp/sp500.csv"
head -n 12 data/german_credit.csv > "$tmp/credit.csv"
csv_seed dax DAX,SMI "$tmp/dax.csv"
csv_seed dax_negated '!t' "$tmp/dax.csv"
csv_seed gold '' "$tmp/gold.csv"
csv_seed msft 2-5 "$tmp/msft.csv"
csv_seed sp500 ret "$tmp/sp500.csv"
csv_seed credit '1,3-5,Age' "$tmp/credit.csv"
"$bin/fin-window" -c DAX,SMI -k t --size 4 --transform logret "$tmp/dax.csv" \
	> "$tmp/windows.csv"
csv_seed windows '' "$tmp/windows.csv"
for f in tests/malformed/*.csv; do
	csv_seed "malformed_$(basename "$f" .csv)" '' "$f"
done
# Compressed input: two gzip members, zstd frames around a skippable one,
# and each cut short.
head -n 20 "$tmp/dax.csv" | gzip -n > "$tmp/dax.csv.gz"
tail -n +21 "$tmp/dax.csv" | gzip -n >> "$tmp/dax.csv.gz"
head -n 20 "$tmp/dax.csv" | zstd -q --check > "$tmp/dax.csv.zst"
printf '\137\052\115\030\004\000\000\000skip' >> "$tmp/dax.csv.zst"
tail -n +21 "$tmp/dax.csv" | zstd -q --check >> "$tmp/dax.csv.zst"
csv_seed dax_gzip DAX "$tmp/dax.csv.gz"
csv_seed dax_zstd DAX "$tmp/dax.csv.zst"
head -c 300 "$tmp/dax.csv.gz" > "$tmp/cut.gz"
head -c 300 "$tmp/dax.csv.zst" > "$tmp/cut.zst"
csv_seed dax_gzip_truncated DAX "$tmp/cut.gz"
csv_seed dax_zstd_truncated DAX "$tmp/cut.zst"

# Models: one per task and kind of layer, on a few rows.
"$bin/fin-window" -c DAX -k t --size 6 --transform logret "$tmp/dax.csv" > "$tmp/w6.csv"
"$bin/fin-window" -c DAX -k t --size 6 --transform logret --target none "$tmp/dax.csv" \
	> "$tmp/w6-untargeted.csv"
train() { # NAME OPTION...
	name=$1
	shift
	"$bin/fin-train" -q --epochs 2 --batch 8 -o "$out/fuzz_model/$name.json" "$@"
}
train mlp -k t --arch 'dense(3,relu) dense(1)' "$tmp/w6.csv"
train cnn -k t --arch 'conv1d(2,3,relu,same) maxpool(2) flatten dense(1)' "$tmp/w6.csv"
train lstm -k t --arch 'lstm(2) dense(1)' "$tmp/w6.csv"
train gru -k t --arch 'conv1d(2,2,tanh) gru(2,seq) avgpool(2) dropout(0.1) dense(1)' \
	"$tmp/w6.csv"
train logistic -y Class -c Duration,Amount,Age --model logistic data/german_credit.csv
train linear -y Amount -c Duration,Age --model linear data/german_credit.csv
awk -F, 'NR == 1 { print "price,band"; next }
	{ print $2 "," ($2 < 298 ? "low" : $2 < 303 ? "mid" : "high") }' "$tmp/gold.csv" \
	> "$tmp/bands.csv"
train softmax -y band --task multiclass --arch 'dense(3,sigmoid) dense(3,softmax)' "$tmp/bands.csv"
train autoencoder -c Duration,Amount,Age,InstallmentRatePercentage --task autoencoder \
	--arch 'dense(3,tanh) dense(2) dense(3,leaky_relu) dense(4)' data/german_credit.csv
train gan -k t --model gan --latent 2 --arch-g 'dense(3,tanh) dense(6)' \
	--arch-d 'dense(3,leaky_relu) dense(1)' "$tmp/w6-untargeted.csv"

# Detectors, each method, on the same few credit columns.
cols=Duration,Amount,Age,InstallmentRatePercentage
head -n 60 data/german_credit.csv > "$tmp/credit60.csv"
fit() { # NAME OPTION...
	name=$1
	shift
	"$bin/fin-anomaly" fit -q -c "$cols" -o "$out/fuzz_detector/$name.json" "$@" \
		"$tmp/credit60.csv"
}
fit zscore --method zscore
fit mahalanobis --method mahalanobis
fit iforest --method iforest --trees 3 --sample 8
fit autoencoder --method autoencoder --ae "$out/fuzz_model/autoencoder.json"
"$bin/fin-train" -q --epochs 2 --model gan -c "$cols" --latent 2 \
	--arch-g 'dense(3,tanh) dense(4)' --arch-d 'dense(3,leaky_relu) dense(1)' \
	-o "$tmp/credit-gan.json" "$tmp/credit60.csv"
fit gan --method gan --gan "$tmp/credit-gan.json"

# Segmentations: standardised, raw, and on an autoencoder's code.
segment() { # NAME OPTION...
	name=$1
	shift
	"$bin/fin-cluster" -q --restarts 1 -o "$out/fuzz_cluster/$name.json" "$@" \
		"$tmp/credit60.csv" > /dev/null
}
segment scaled -k 3 -c "$cols"
segment raw -k 2 -c "$cols" --no-scale
segment embedded -k 2 -c "$cols" --embed "$out/fuzz_model/autoencoder.json"

# Architectures: the input shape, then a network, then (for a GAN) its
# discriminator; from fin-train(1) and the tests.
arch_seed() { # NAME SHAPE ARCH [ARCH_D]
	if [ $# -eq 4 ]; then
		printf '%s\n%s\n%s\n' "$2" "$3" "$4"
	else
		printf '%s\n%s\n' "$2" "$3"
	fi > "$out/fuzz_arch/$1"
}
arch_seed cnn '1 20' 'conv1d(64,3,relu) maxpool(2) flatten dense(64,relu) dense(1)'
arch_seed mlp '1 6' 'dense(16,relu) dense(8,tanh) dense(1)'
arch_seed cnn_small '2 10' \
	'conv1d(4,3,leaky_relu,same) avgpool(2) conv1d(3,3,sigmoid) flatten dense(2)'
arch_seed recurrent '3 8' 'gru(32,seq) lstm(16) dense(1)'
arch_seed conv_lstm '1 12' 'conv1d(8,3,relu,valid) lstm(16) dense(1,linear)'
arch_seed softmax '2 5' 'conv1d(2,3,same) flatten softmax'
arch_seed dropout '1 4' 'dense(4,relu) dropout(0.25) dense(3,softmax)'
arch_seed pools '2 9' 'conv1d(2,3,same) maxpool(2) maxpool(3)'
arch_seed activations '1 3' 'relu leaky_relu tanh sigmoid linear flatten dense(2)'
arch_seed gan '1 5' 'dense(12,tanh) dense(5)' 'dense(16,leaky_relu) dense(1)'
arch_seed bad_kernel '1 20' 'conv1d(4,3) conv1d(4,30,relu)'
