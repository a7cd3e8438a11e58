# One CSV row per result, from fin-eval's JSON (NAME.eval.json) and, for a
# forecaster, fin-backtest's trading report (NAME.trade.json), where NAME is
# DATA-MODEL. The rows are sorted by data set, then by the main loss, lower
# first: RMSE for forecasts, log-loss for classifiers.
#
#   awk -f leaderboard.awk out/*.eval.json out/*.trade.json > leaderboard.csv
#
# A metric that does not apply to a result (or is null) is an empty field.

BEGIN {
    # column=field: the field of fin-eval's JSON, nested names joined by a dot,
    # or of the trading report, under "trade."
    ncol = split("n=n rmse=rmse rmse_zero=rmse_naive theil_u=theil_u mase=mase " \
        "dm=dm.statistic dm_p=dm.p_value sharpe=trade.strategy.sharpe " \
        "sharpe_hold=trade.buy_and_hold.sharpe roc_auc=roc_auc log_loss=log_loss " \
        "log_loss_base=baseline.log_loss", spec, " ")
    header = "data,model"
    for (i = 1; i <= ncol; i++) {
        split(spec[i], part, "=")
        field[i] = part[2]
        position[part[1]] = i + 2
        header = header "," part[1]
    }
    nresult = 0
}

{ text[FILENAME] = text[FILENAME] $0 "\n" }

# Stores every scalar of the JSON object json as value[result, path]: keys of
# nested objects joined by a dot (dm.statistic), array elements by their index
# from 0, strings without their quotes.
function flatten(json, result, prefix,    depth, key, in_array, expect_key, c, token, path, i) {
    depth = 0
    while (json != "") {
        c = substr(json, 1, 1)
        if (c ~ /[ \t\r\n]/) {
            json = substr(json, 2)
            continue
        }
        if (c == "{" || c == "[") {
            depth++
            in_array[depth] = (c == "[")
            expect_key[depth] = !in_array[depth]
            key[depth] = 0
            json = substr(json, 2)
            continue
        }
        if (c == "}" || c == "]" || c == ":" || c == ",") {
            if (c == "}" || c == "]")
                depth--
            else if (c == ":")
                expect_key[depth] = 0
            else if (in_array[depth])
                key[depth]++
            else
                expect_key[depth] = 1
            json = substr(json, 2)
            continue
        }
        if (c == "\"" ? match(json, /^"([^"\\]|\\.)*"/) : match(json, /^[^] \t\r\n,:{}["]+/)) {
            token = c == "\"" ? substr(json, 2, RLENGTH - 2) : substr(json, 1, RLENGTH)
            json = substr(json, RLENGTH + 1)
        } else {
            printf "leaderboard.awk: %s: not JSON near '%s'\n", FILENAME, substr(json, 1, 20) \
                > "/dev/stderr"
            exit 1
        }
        if (expect_key[depth]) {
            key[depth] = token
            continue
        }
        path = prefix key[1]
        for (i = 2; i <= depth; i++)
            path = path "." key[i]
        value[result, path] = token
    }
}

END {
    for (file in text) {
        result = file
        sub(/.*\//, "", result)
        prefix = result ~ /\.trade\.json$/ ? "trade." : ""
        sub(/\.(eval|trade)\.json$/, "", result)
        if (!(result in seen)) {
            seen[result] = 1
            names[++nresult] = result
        }
        flatten(text[file], result, prefix)
    }
    print header
    fflush()
    sort = "LC_ALL=C sort -t, -k1,1 -k" position["rmse"] "," position["rmse"] "g -k" \
        position["log_loss"] "," position["log_loss"] "g"
    for (r = 1; r <= nresult; r++) {
        result = names[r]
        dash = index(result, "-")
        row = substr(result, 1, dash - 1) "," substr(result, dash + 1)
        for (i = 1; i <= ncol; i++) {
            v = (result, field[i]) in value ? value[result, field[i]] : ""
            row = row "," (v == "null" ? "" : v)
        }
        print row | sort
    }
    close(sort)
}
