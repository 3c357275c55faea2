import { env } from "$env/dynamic/private";
export function load() { return { site: env.APPWRITE_SITE_ID, rendered: "on the server" }; }
