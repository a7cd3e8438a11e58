#ifndef FIN_VERSION_H
#define FIN_VERSION_H
#define FIN_VERSION "0.1.0"
#endif
