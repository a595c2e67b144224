/* Stand-ins for the GSSAPI symbols that Debian's libzmq.a references, for
 * GRAV_STATIC_DEPS (see GravStaticDeps.cmake): MIT krb5 has no static
 * archives, and a -static program cannot load libgssapi_krb5.so. libzmq
 * calls these only for sockets set to the GSSAPI mechanism, which grav never
 * uses; should one be, every call fails and so does its handshake. */
#include <gssapi/gssapi.h>

#define GRAV_GSS_FAIL                    \
    {                                    \
        if (minor) *minor = 0;           \
        return GSS_S_FAILURE;            \
    }

gss_OID GSS_C_NT_HOSTBASED_SERVICE = GSS_C_NO_OID;
gss_OID GSS_C_NT_USER_NAME = GSS_C_NO_OID;

OM_uint32 gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_cred_id_t cred,
                                 gss_buffer_t input, gss_channel_bindings_t bindings, gss_name_t *source,
                                 gss_OID *mech, gss_buffer_t output, OM_uint32 *flags, OM_uint32 *time,
                                 gss_cred_id_t *delegated) GRAV_GSS_FAIL

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time, gss_OID_set mechs,
                           gss_cred_usage_t usage, gss_cred_id_t *cred, gss_OID_set *actual,
                           OM_uint32 *actual_time) GRAV_GSS_FAIL

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t output) GRAV_GSS_FAIL

OM_uint32 gss_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t output, gss_OID *type) GRAV_GSS_FAIL

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t input, gss_OID type, gss_name_t *name) GRAV_GSS_FAIL

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context, gss_name_t target,
                               gss_OID mech, OM_uint32 req_flags, OM_uint32 time, gss_channel_bindings_t bindings,
                               gss_buffer_t input, gss_OID *actual_mech, gss_buffer_t output, OM_uint32 *flags,
                               OM_uint32 *actual_time) GRAV_GSS_FAIL

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer) GRAV_GSS_FAIL

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred) GRAV_GSS_FAIL

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name) GRAV_GSS_FAIL

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context, gss_buffer_t input, gss_buffer_t output,
                     int *conf_state, gss_qop_t *qop) GRAV_GSS_FAIL

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop, gss_buffer_t input,
                   int *conf_state, gss_buffer_t output) GRAV_GSS_FAIL
