// The functions a query may call (allowed_functions.cpp says how the list was
// made and is kept); the SQL gate refuses any other.
#pragma once

#include <span>
#include <string_view>

namespace etl::cataloger {

// `name` lower-cased, as the gate reads it from the syntax tree.
bool allowed_function(std::string_view name);
// Every name, sorted.
std::span<const std::string_view> allowed_functions();

}  // namespace etl::cataloger
