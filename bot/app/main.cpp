#include <cstdio>
int main() { std::puts("kintsugi " KINTSUGI_VERSION); }
