// Linux's epoll, which Swift's Glibc module does not export; LoadDriver's TickPoller is its only user.
#ifdef __linux__
#include <sys/epoll.h>
#endif
