/* An empty shared library: what preloading any library costs an exec (the
 * loader maps it, relocates it and searches it), the floor under the
 * shim's own start-up cost in bench/process.sh. */
int om_floor(void);
int om_floor(void)
{
	return 0;
}
