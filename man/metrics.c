/* Writes the exporter's man page with its METRICS section made from the
 * table of families (common/metrics.h), so the page cannot drift from
 * what the exporter serves.
 *
 *   metrics PAGE.in PAGE    replace the line ".\" @METRICS@" of PAGE.in
 *   metrics --names         print every family's name, one per line */
#include <stdio.h>
#include <string.h>

#include "common/metrics.h"

static const struct om_metric_def metrics[OM_NMETRIC] = { OM_METRICS(OM_METRIC_DEF) };

static void roff(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void section(FILE *out)
{
	int i;

	for (i = 0; i < OM_NMETRIC; i++) {
		const struct om_metric_def *m = &metrics[i];

		fputs(".TP\n.BR ", out);
		roff(out, m->name);
		fprintf(out, " \"%s%s%s (%s)\"\n", *m->labels ? "{" : "", m->labels,
			*m->labels ? "}" : "", m->type);
		roff(out, m->help);
		fputc('\n', out);
	}
}

int main(int argc, char **argv)
{
	char line[4096];
	FILE *in, *out;
	int i, done = 0;

	if (argc == 2 && !strcmp(argv[1], "--names")) {
		for (i = 0; i < OM_NMETRIC; i++)
			puts(metrics[i].name);
		return 0;
	}
	if (argc != 3 || !(in = fopen(argv[1], "r")) || !(out = fopen(argv[2], "w"))) {
		fprintf(stderr, "usage: metrics PAGE.in PAGE | metrics --names\n");
		return 2;
	}
	while (fgets(line, sizeof line, in)) {
		if (!strcmp(line, ".\\\" metrics table here\n")) {
			section(out);
			done = 1;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	if (fclose(out) != 0 || !done) {
		fprintf(stderr, "metrics: %s has no line .\\\" metrics table here\n", argv[1]);
		return 1;
	}
	return 0;
}
