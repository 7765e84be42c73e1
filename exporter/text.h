/* Names and escaping shared by every output of the exporter.  Strings from
 * a segment are anyone's bytes: JSON escapes every byte outside printable
 * ASCII as \u00XX, text for a human as \xNN, so no output is invalid
 * UTF-8 and no terminal sees a control sequence. */
#ifndef OM_TEXT_H
#define OM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "common/reader.h"

extern const char *const om_class_names[OM_NCLASS];
extern const char *const om_outcome_names[OM_NOUTCOME];
extern const char *const om_leak_names[OM_NLEAK];
extern const char *const om_action_names[OM_NACTION];
extern const char *const om_policy_names[OM_NPOLICY];
extern const char *const om_uncounted_names[OM_NUNCOUNTED];
extern const char *const om_dir_names[OM_NDIR];

void om_json_str(struct om_buf *b, const char *s);
/* s escaped into out (n bytes, always terminated). */
void om_text_str(char *out, size_t n, const char *s);
/* The same for a command line the user may copy back into a shell: only
 * bytes a terminal would act on are escaped, a backslash stays one. */
void om_text_cmd(char *out, size_t n, const char *s);
/* "ADDR:PORT", "[ADDR6]:PORT" or the name, escaped; a cut name ends "...". */
void om_event_dest(char *out, size_t n, const struct om_event *e);
void om_event_time(char *out, size_t n, uint64_t ns); /* ISO 8601, UTC */
void om_human_bytes(char *out, size_t n, uint64_t v);

#endif
