# A CSV file without quoted fields (such as leaderboard.csv) as an aligned
# table: numbers to 4 significant digits (whole numbers as they are) and
# right-aligned, text left-aligned, "-" for an empty field.
#
#   awk -f table.awk leaderboard.csv

BEGIN { FS = "," }

{
    for (i = 1; i <= NF; i++) {
        v = $i
        if (NR > 1) {
            if (v == "")
                v = "-"
            else if (v ~ /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) {
                if (v !~ /^-?[0-9]+$/)
                    v = sprintf("%#.4g", v)
            } else
                text[i] = 1
        }
        cell[NR, i] = v
        if (length(v) > width[i])
            width[i] = length(v)
    }
    if (NF > ncol)
        ncol = NF
}

END {
    for (r = 1; r <= NR; r++) {
        line = ""
        for (i = 1; i <= ncol; i++) {
            format = "%" (text[i] ? "-" : "") width[i] "s"
            line = line (i > 1 ? "  " : "") sprintf(format, cell[r, i])
        }
        sub(/ +$/, "", line)
        print line
    }
}
