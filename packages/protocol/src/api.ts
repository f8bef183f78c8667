/** Shapes of the REST client API (`/api/v1`), shared by the server's presenters and the SDK. */

export interface RequestCodeResponse {
  phone: string;
  /** Seconds until the code expires. */
  expires_in: number;
  /** Seconds before another code may be requested for this number. */
  resend_in: number;
}

export interface VerifyCodeResponse {
  account_id: string;
  device_id: string;
  token: string;
  /** True when this verification created the account. */
  new_account: boolean;
}

export interface ProfileView {
  account_id: string;
  phone: string;
  display_name: string;
  about: string;
}

export interface DeviceView {
  device_id: string;
  name: string;
  created_at: string;
  last_seen_at: string | null;
  current: boolean;
}
