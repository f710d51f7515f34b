#include "http_easy.h"

enum hl_err hl_http_easy_setopt_err(CURLcode cc)
{
	return cc == CURLE_OUT_OF_MEMORY ? HL_ERR_NOMEM : HL_ERR_CONFIG;
}

enum hl_err hl_http_easy_new(const struct hl_http_easy_opts *o, CURL **ret)
{
	CURL *e = curl_easy_init();
	CURLcode cc;
	if (!e)
		return HL_ERR_NOMEM;
	if ((cc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) ||
	    (cc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms)) ||
	    (cc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L)) ||
	    (cc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L)) ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    (cc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https")) ||
#else
	    (cc = curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))) ||
#endif
	    (cc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L)) ||
	    (cc = curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1)) ||
	    (cc = curl_easy_setopt(e, CURLOPT_USERAGENT, "healthlakefs/" HLFS_VERSION)) ||
	    (o->ca_file && (cc = curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file)))) {
		curl_easy_cleanup(e);
		return hl_http_easy_setopt_err(cc);
	}
	*ret = e;
	return HL_ERR_OK;
}
