import { createHash, createHmac } from "crypto";
import { isScramVerifier, parseScramVerifier, saslPrep, scramSha256Verifier, verifierMatchesPassword } from "../../../pgbouncer";

// RFC 7677 section 3: user "user", password "pencil", salt and nonces as below, 4096 iterations.
const RFC_SALT = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
const AUTH_MESSAGE =
  "n=user,r=rOprNGfwEbeRWgbNEkqO," +
  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

describe("scramSha256Verifier", () => {
  const verifier = scramSha256Verifier("pencil", { salt: RFC_SALT, iterations: 4096 });

  it("produces PostgreSQL's rolpassword format for the RFC 7677 inputs", () => {
    expect(verifier).toBe(
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
    );
  });

  it("holds keys that reproduce RFC 7677's ServerSignature and verify its ClientProof", () => {
    const { storedKey, serverKey } = parseScramVerifier(verifier)!;
    // The server side of SCRAM only ever needs StoredKey and ServerKey: check both against the RFC.
    const serverSignature = createHmac("sha256", serverKey).update(AUTH_MESSAGE).digest("base64");
    expect(serverSignature).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    const clientProof = Buffer.from("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "base64");
    const clientSignature = createHmac("sha256", storedKey).update(AUTH_MESSAGE).digest();
    const clientKey = Buffer.from(clientProof.map((b, i) => b ^ clientSignature[i]));
    expect(createHash("sha256").update(clientKey).digest("base64")).toBe(storedKey.toString("base64"));
  });

  it("uses 4096 iterations and a fresh 16-byte salt by default", () => {
    const a = parseScramVerifier(scramSha256Verifier("pencil"))!;
    const b = parseScramVerifier(scramSha256Verifier("pencil"))!;
    expect([a.iterations, a.salt.length, b.salt.length]).toEqual([4096, 16, 16]);
    expect(a.salt.equals(b.salt)).toBe(false);
  });

  it("recognises its own verifiers and rejects plaintext and md5 secrets", () => {
    expect(verifierMatchesPassword(verifier, "pencil")).toBe(true);
    expect(verifierMatchesPassword(verifier, "pencil ")).toBe(false);
    expect([isScramVerifier(verifier), isScramVerifier("pencil"), isScramVerifier("md5a4b5c2e2e9b1a8f8e4f7e2c1d0b9a8f7")]).toEqual([true, false, false]);
    expect(isScramVerifier("SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:c2hvcnQ=")).toBe(false); // keys must be 32 bytes
  });

  it("rejects nonsense iteration counts with CONFIG_INVALID naming the option", () => {
    expect(() => scramSha256Verifier("x", { iterations: 0 })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", meta: { key: "iterations" } }));
  });
});

describe("saslPrep", () => {
  it("passes ASCII through and maps like RFC 4013 otherwise", () => {
    expect(saslPrep("pencil \t!")).toBe("pencil \t!");
    expect(saslPrep("a\u00A0b")).toBe("a b"); // non-ASCII space -> SPACE
    expect(saslPrep("a\u00ADb")).toBe("ab"); // soft hyphen maps to nothing
    expect(saslPrep("\uFB01nance")).toBe("finance"); // NFKC
    expect(saslPrep("\u00E9t\u00E9")).toBe("\u00E9t\u00E9");
    expect(saslPrep("a\u0085b")).toBe("a\u0085b"); // prohibited control: PostgreSQL keeps the raw password
  });
});
