// A replacement global operator new that refuses (with std::bad_alloc, as a memory limit would) every single
// allocation larger than g_allocation_cap. For the test binaries that provoke large allocations where an
// RLIMIT_AS cannot be used (under AddressSanitizer, or for one oversized request in a process that must
// keep running). Include it in exactly one file of a test binary: it defines the operators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

inline std::size_t g_allocation_cap = SIZE_MAX;

void* operator new(std::size_t n) {
  if (n > g_allocation_cap) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return ::operator new(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
