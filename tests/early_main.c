#include <stdio.h>

extern int early_sent;

int main(void)
{
	printf("%d\n", early_sent);
	return early_sent == 12 ? 0 : 1;
}
