/* Without libFuzzer: run a fuzz target over every file in the given
 * corpus directories, so the corpus is a regression suite in every build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* A target may say, after the replay, that its corpus no longer reaches
 * what it is for (seeds of an older segment layout): nonzero fails. */
int om_fuzz_replay_check(void) __attribute__((weak));

int main(int argc, char **argv)
{
	int i, files = 0;

	for (i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (!d) {
			perror(argv[i]);
			return 2;
		}
		while ((e = readdir(d))) {
			char path[4096];
			FILE *f;
			uint8_t *buf;
			long n;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			if (!(f = fopen(path, "rb")))
				continue;
			fseek(f, 0, SEEK_END);
			n = ftell(f);
			rewind(f);
			buf = malloc(n > 0 ? (size_t)n : 1);
			if (fread(buf, 1, (size_t)n, f) != (size_t)n)
				return 2;
			fclose(f);
			LLVMFuzzerTestOneInput(buf, (size_t)n);
			free(buf);
			files++;
		}
		closedir(d);
	}
	printf("replayed %d corpus files\n", files);
	if (om_fuzz_replay_check && om_fuzz_replay_check() != 0)
		return 1;
	return files ? 0 : 1;
}
