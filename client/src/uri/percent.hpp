// Percent-encoding (RFC 3986 section 2.1) for the parts of an NBD URI.
#pragma once

#include <string>
#include <string_view>

namespace nbdref::uri {

// RFC 3986 section 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
bool is_unreserved(char c);
// RFC 3986 section 2.2: "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
bool is_sub_delim(char c);

// Replaces every "%XX" by its byte. `text` must hold only well-formed
// escapes (the parser checks the whole URI first).
std::string percent_decode(std::string_view text);

// Copies `text`, writing every byte that is neither unreserved nor in
// `also_literal` as "%XX" (upper-case hex, as RFC 3986 section 2.1 advises).
std::string percent_encode(std::string_view text, std::string_view also_literal);

}  // namespace nbdref::uri
