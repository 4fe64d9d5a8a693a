// One request at a time on one CURL easy handle. Reusing the handle is what keeps the TCP
// connection (and TLS session) alive between inserts; everything a request needs that does not
// depend on its arguments (headers, callbacks, auth, timeouts) is set once in the constructor.
#include "clickhouse/http_client.h"

#include <charconv>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

#include "clickhouse/chunked_body.h"
#include "clickhouse/compression.h"
#include "clickhouse/http_errors.h"
#include "clickhouse/http_url.h"

namespace pg2ch::clickhouse {
namespace {

using Settings = std::map<std::string, std::string>;

// curl_global_init is not thread-safe and must precede every other curl call. It is never
// undone: clients may live until exit, and cleanup at exit buys nothing.
void init_curl_once() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) throw Error(ErrorKind::Internal, std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
}

struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Headers = std::unique_ptr<curl_slist, SlistDeleter>;

Headers make_headers(std::initializer_list<std::string_view> lines) {
  curl_slist* list = nullptr;
  for (std::string_view line : lines) {
    if (line.empty()) continue;
    curl_slist* grown = curl_slist_append(list, std::string(line).c_str());
    if (!grown) {
      curl_slist_free_all(list);
      throw Error(ErrorKind::Internal, "curl_slist_append failed");
    }
    list = grown;
  }
  return Headers(list);
}

// Server keep-alive windows are short (10 s on 18.16, 3 s on many later releases). Reusing a
// connection the server is closing at that moment fails a streamed body that cannot be rewound,
// so idle connections older than this are replaced instead of reused.
constexpr long kMaxIdleConnectionAgeS = 2;
// Larger than curl's 64 KiB default: fewer chunk headers and syscalls per streamed megabyte.
constexpr long kUploadBufferSize = 512 * 1024;

}  // namespace

struct HttpClient::Impl {
  explicit Impl(const Endpoint& e)
      : curl(new_easy_handle()),
        base_url(clickhouse::base_url(e)),
        where(e.describe()),
        password(e.password),
        secure(e.secure),
        timeout_s(e.timeout_s),
        compressor(make_body_compressor(e.compression)) {
    if (!curl) throw Error(ErrorKind::Internal, "curl_easy_init failed");
    const std::string encoding =
        e.compression == Compression::None ? "" : "Content-Encoding: " + std::string(content_encoding(e.compression));
    // "Expect:" stops curl from waiting for 100-continue before large bodies.
    query_headers = make_headers({"Content-Type: text/plain; charset=UTF-8", "Expect:"});
    insert_headers = make_headers({"Content-Type: application/octet-stream", "Expect:", encoding});
    stream_headers =
        make_headers({"Content-Type: application/octet-stream", "Expect:", "Transfer-Encoding: chunked", encoding});

    set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts: we run in threads
    set(CURLOPT_TCP_NODELAY, 1L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_CONNECTTIMEOUT, static_cast<long>(e.connect_timeout_s));
    set(CURLOPT_MAXAGE_CONN, kMaxIdleConnectionAgeS);
    set(CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferSize);
    set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(CURLOPT_USERNAME, e.user.c_str());
    set(CURLOPT_PASSWORD, e.password.c_str());
    if (!e.ca_file.empty()) set(CURLOPT_CAINFO, e.ca_file.c_str());
    if (!e.cert_file.empty()) set(CURLOPT_SSLCERT, e.cert_file.c_str());
    if (!e.key_file.empty()) set(CURLOPT_SSLKEY, e.key_file.c_str());
    set(CURLOPT_ERRORBUFFER, errbuf);
    set(CURLOPT_WRITEFUNCTION, &Impl::on_write);
    set(CURLOPT_WRITEDATA, this);
    set(CURLOPT_READFUNCTION, &Impl::on_read);
    set(CURLOPT_READDATA, this);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  static CURL* new_easy_handle() {
    init_curl_once();
    return curl_easy_init();
  }

  template <typename T>
  void set(CURLoption option, T value) {
    CURLcode rc = curl_easy_setopt(curl.get(), option, value);
    if (rc != CURLE_OK) throw Error(ErrorKind::Internal, std::string("curl_easy_setopt failed: ") + curl_easy_strerror(rc));
  }

  void prepare_url(std::string_view query_param, const Settings& settings) {
    url.assign(base_url);  // keeps capacity: no allocation once the longest URL has been seen
    if (!query_param.empty()) append_url_param(url, "query", query_param);
    for (const auto& [key, value] : settings) append_url_param(url, key, value);
    set(CURLOPT_URL, url.c_str());
  }

  void prepare_fixed_body(std::string_view body, curl_slist* headers) {
    set(CURLOPT_POSTFIELDS, body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    set(CURLOPT_HTTPHEADER, headers);
    set(CURLOPT_TIMEOUT, static_cast<long>(timeout_s));
    set(CURLOPT_LOW_SPEED_TIME, 0L);
  }

  void prepare_streamed_body() {
    // A null POSTFIELDS with an unknown size makes curl pull the body from on_read.
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(-1));
    set(CURLOPT_HTTPHEADER, stream_headers.get());
    set(CURLOPT_TIMEOUT, 0L);
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(timeout_s));
  }

  // Runs the prepared request; returns normally only on HTTP 200.
  void perform() {
    errbuf[0] = '\0';
    response.clear();
    callback_error = nullptr;
    const CURLcode rc = curl_easy_perform(curl.get());
    body = nullptr;
    if (callback_error) std::rethrow_exception(std::exchange(callback_error, nullptr));

    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    // A server that rejects a statement may answer and close before the body is fully sent;
    // its answer explains the failure better than the broken pipe does.
    if (rc != CURLE_OK && !(status >= 400 && !response.empty())) throw scrubbed(with_tls_hint(curl_error(rc, errbuf, where)));
    if (status != 200) throw scrubbed(server_error(status, exception_code_header(), response, where));
    // A 200 is not yet a success: ClickHouse that fails after it has started answering, and a
    // proxy that relays a failure as 200, put the exception in the header or at the body's end.
    if (const int code = exception_code_header(); code != 0 || exception_in_ok_body(response)) {
      throw scrubbed(server_error(status, code, response, where));
    }
  }

  InsertResult insert_result() {
    InsertResult r;
    if (capabilities && capabilities->summary_counts_rows) {
      r.written_rows = written_rows_in_summary(header_value("X-ClickHouse-Summary"));
    }
    return r;
  }

  std::string_view header_value(const char* name) {
    curl_header* header = nullptr;
    if (curl_easy_header(curl.get(), name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK) return {};
    // Progress headers may repeat; the last one holds the final counts.
    if (header->amount > 1 &&
        curl_easy_header(curl.get(), name, header->amount - 1, CURLH_HEADER, -1, &header) != CURLHE_OK) {
      return {};
    }
    return header->value;
  }

  // Over HTTPS a connection that breaks off is often the TLS handshake: a server that wants a
  // client certificate closes it, and so does a plain HTTP port spoken to in TLS.
  Error with_tls_hint(const Error& e) const {
    if (!secure || e.kind() != ErrorKind::Connection) return e;
    return Error(e.kind(), e.what(),
                 e.hint() + "; over HTTPS also that clickhouse.port is the server's https_port and, when the server "
                            "asks for a client certificate, clickhouse.cert_file and clickhouse.key_file",
                 e.retriable());
  }

  // Scrubs the finished message rather than the raw input, so the parser sees the body intact.
  Error scrubbed(const Error& e) const {
    std::string message = e.what();
    if (password.empty() || message.find(password) == std::string::npos) return e;
    redact(message, password);
    return Error(e.kind(), std::move(message), e.hint(), e.retriable());
  }

  int exception_code_header() {
    const std::string_view value = header_value("X-ClickHouse-Exception-Code");
    int code = 0;
    std::from_chars(value.data(), value.data() + value.size(), code);
    return code;
  }

  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* self) {
    auto* impl = static_cast<Impl*>(self);
    try {
      impl->response.append(data, size * count);
      return size * count;
    } catch (...) {
      impl->callback_error = std::current_exception();
      return 0;  // anything short of the full count fails the transfer with CURLE_WRITE_ERROR
    }
  }

  static std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* self) {
    auto* impl = static_cast<Impl*>(self);
    if (!impl->body) return 0;
    try {
      return impl->body->read(buffer, size * count);
    } catch (...) {
      // Exceptions must not unwind through curl's C frames.
      impl->callback_error = std::current_exception();
      return CURL_READFUNC_ABORT;
    }
  }

  std::unique_ptr<CURL, CurlDeleter> curl;
  std::string base_url;
  std::string where;
  std::string password;  // only to scrub it from messages; curl has its own copy
  bool secure;
  long timeout_s;
  std::unique_ptr<BodyCompressor> compressor;
  ByteBuffer compressed;
  Headers query_headers, insert_headers, stream_headers;
  std::string url;
  std::string response;
  ChunkedBody* body = nullptr;  // the streamed body during insert_stream
  std::exception_ptr callback_error;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::optional<ServerCapabilities> capabilities;
};

HttpClient::HttpClient(Endpoint endpoint) : endpoint_(std::move(endpoint)), impl_(std::make_unique<Impl>(endpoint_)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

std::string HttpClient::query(std::string_view sql, const Settings& settings) {
  impl_->prepare_url({}, settings);
  impl_->prepare_fixed_body(sql, impl_->query_headers.get());
  impl_->perform();
  return impl_->response;
}

InsertResult HttpClient::insert(std::string_view insert_prefix, std::string_view body, const Settings& settings) {
  std::string_view wire = body;
  if (impl_->compressor) {
    impl_->compressed.clear();
    impl_->compressor->compress(body, impl_->compressed);
    wire = impl_->compressed.view();
  }
  impl_->prepare_url(insert_prefix, settings);
  impl_->prepare_fixed_body(wire, impl_->insert_headers.get());
  impl_->perform();
  return impl_->insert_result();
}

InsertResult HttpClient::insert_stream(std::string_view insert_prefix, const std::function<std::string_view()>& next_chunk,
                               const Settings& settings) {
  impl_->compressed.clear();
  ChunkedBody body(next_chunk, impl_->compressor.get(), impl_->compressed);
  impl_->prepare_url(insert_prefix, settings);
  impl_->prepare_streamed_body();
  impl_->body = &body;
  impl_->perform();
  return impl_->insert_result();
}

const ServerCapabilities& HttpClient::capabilities() {
  if (!impl_->capabilities) {
    std::string text = query("SELECT version()");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    ServerVersion version = parse_server_version(text);
    if (version.major == 0)
      throw Error(ErrorKind::Protocol, "ClickHouse " + impl_->where + " answered SELECT version() with '" +
                                           text.substr(0, 100) + "'");
    impl_->capabilities = ServerCapabilities::from_version(version);
  }
  return *impl_->capabilities;
}

}  // namespace pg2ch::clickhouse
