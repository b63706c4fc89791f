/* macro: the few macros every layer uses. */
#ifndef FLASHD_MACRO_H
#define FLASHD_MACRO_H

/* Elements of an array (not a pointer). */
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
