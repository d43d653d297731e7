// Key rotation wizard: 1 generate (or import the provider's new key) → 2 public key for the
// provider console → 3 test → 4 activate with a grace period → done. The sections appear one
// below the other as the rotation progresses, so each next action is right there.
import { useEffect, useState } from 'react';
import {
  Alert,
  Button,
  Divider,
  Form,
  InputNumber,
  Modal,
  Result,
  Space,
  Steps,
  Tabs,
  Tag,
  Typography,
  message,
} from 'antd';
import { CopyOutlined, CloudUploadOutlined, ExperimentOutlined, KeyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { toAppError } from '../../api';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import type { Endpoint, Purpose, PublicExport } from '../../types';
import { below, MONO_FONT, themed, WIDTH } from '../../styles';
import ImportFields from './ImportFields';
import type { FieldName, FieldValues } from './keyMeta';
import { checkFields, copyText, importArgs, rotationMode } from './keyMeta';

export const DEFAULT_GRACE_HOURS = 24;

export interface RotationWizardProps {
  open: boolean;
  account: string;
  purpose: Purpose;
  endpoint: Endpoint | null;
  /** Whether the credential has an active version (else the new one is active at once). */
  hasActive: boolean;
  onClose: () => void;
  /** Something changed in the vault (re-read the list). */
  onChanged: () => void;
}

type TestResult = { ok: boolean; text: string };

const mono: React.CSSProperties = {
  fontFamily: MONO_FONT,
  fontSize: 12,
  whiteSpace: 'pre-wrap',
  wordBreak: 'break-all',
  background: themed('fill', 'rgba(0,0,0,0.04)'),
  padding: 8,
  borderRadius: 4,
  margin: 0,
  maxHeight: 220,
  overflow: 'auto',
};

export default function RotationWizard({
  open,
  account,
  purpose,
  endpoint,
  hasActive,
  onClose,
  onChanged,
}: RotationWizardProps) {
  const { t } = useTranslation('keys');
  const mode = rotationMode(purpose) ?? 'import';
  const [bits, setBits] = useState<2048 | 4096>(2048);
  const [values, setValues] = useState<FieldValues>({});
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [exported, setExported] = useState<PublicExport | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [fingerprint, setFingerprint] = useState<string | null>(null);
  const [tab, setTab] = useState<'pem' | 'base64'>('pem');
  const [uploaded, setUploaded] = useState(false);
  const [test, setTest] = useState<TestResult | null>(null);
  const [grace, setGrace] = useState<number | null>(DEFAULT_GRACE_HOURS);
  const [activated, setActivated] = useState(false);
  const [busy, setBusy] = useState<null | 'generate' | 'import' | 'upload' | 'test' | 'activate'>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!open) {
      setValues({});
      return;
    }
    setBits(2048);
    setValues({});
    setFieldErrors({});
    setExported(null);
    setVersion(null);
    setFingerprint(null);
    setTab('pem');
    setUploaded(false);
    setTest(null);
    setGrace(DEFAULT_GRACE_HOURS);
    setActivated(false);
    setBusy(null);
    setError(null);
  }, [open, account, purpose]);

  // The first version of a credential is active as soon as it is stored.
  const activeAlready = version !== null && !hasActive;
  const finished = activated || (activeAlready && test?.ok === true);

  async function run<T>(what: NonNullable<typeof busy>, f: () => Promise<T>): Promise<T | undefined> {
    setBusy(what);
    setError(null);
    try {
      return await f();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(null);
    }
  }

  async function generate() {
    const e = await run('generate', () =>
      commands.keysGenerate(account, purpose, bits),
    );
    if (e) {
      setExported(e);
      setVersion(e.version);
      setFingerprint(e.fingerprint);
      onChanged();
    }
  }

  async function importNew() {
    const errs = checkFields(purpose, values);
    setFieldErrors(errs);
    if (Object.keys(errs).length) return;
    const v = await run('import', () =>
      commands.keysImport(account, purpose, importArgs(purpose, values)),
    );
    if (v) {
      setValues({});
      setVersion(v.version);
      setFingerprint(v.info.fingerprint);
      onChanged();
    }
  }

  async function copy() {
    if (!exported) return;
    const text = tab === 'pem' ? exported.public_key_pem : exported.public_key_base64;
    const ok = await copyText(text);
    if (ok) void message.success(t('wizard.copied'));
    else void message.warning(t('wizard.copy_failed'));
  }

  async function upload() {
    if (version === null) return;
    await run('upload', async () => {
      await commands.keysRegisterWithSandbox(account, purpose, version);
      setUploaded(true);
    });
  }

  async function runTest() {
    if (version === null) return;
    setBusy('test');
    setError(null);
    try {
      const outcome = await commands.keysTest(account, purpose, version);
      setTest({ ok: true, text: outcome });
    } catch (e) {
      const err = toAppError(e);
      if (err.kind === 'provider' || err.kind === 'bad_input') setTest({ ok: false, text: err.message });
      else setError(e);
    } finally {
      setBusy(null);
      onChanged();
    }
  }

  async function activate() {
    if (version === null) return;
    const hours = grace ?? 0;
    const ok = await run('activate', async () => {
      await commands.keysActivate(account, purpose, version, hours);
      return true;
    });
    if (ok) {
      setActivated(true);
      onChanged();
    }
  }

  const steps =
    mode === 'generate'
      ? [t('wizard.step.generate'), t('wizard.step.public_key'), t('wizard.step.test'), t('wizard.step.activate')]
      : [t('wizard.step.import'), t('wizard.step.test'), t('wizard.step.activate')];
  const testStep = mode === 'generate' ? 2 : 1;
  const current =
    version === null
      ? 0
      : finished
        ? steps.length
        : test?.ok
          ? testStep + 1
          : mode === 'generate' && !test
            ? 1
            : testStep;

  const instructions = t(`wizard.instructions.${purpose}`);

  return (
    <Modal
      open={open}
      title={t(mode === 'generate' ? 'wizard.title_rotate' : 'wizard.title_roll', {
        account,
        purpose: t(`common:purpose.${purpose}`),
      })}
      onCancel={onClose}
      destroyOnHidden
      width={WIDTH.dialogWizard}
      footer={[
        <Button key="close" onClick={onClose} data-testid="wizard-close">
          {finished ? t('common:actions.close') : t('common:actions.cancel')}
        </Button>,
      ]}
    >
      <Steps size="small" current={current} items={steps.map((title) => ({ title }))} style={below.lg} />

      {/* 1. generate / import */}
      {version === null ? (
        mode === 'generate' ? (
          <div>
            <Typography.Paragraph>{t('wizard.generate_help')}</Typography.Paragraph>
            <Form layout="inline" component="div" style={below.md}>
              <Form.Item label={t('wizard.bits')}>
                <Space.Compact>
                  {([2048, 4096] as const).map((b) => (
                    <Button
                      key={b}
                      type={bits === b ? 'primary' : 'default'}
                      aria-pressed={bits === b}
                      onClick={() => setBits(b)}
                      data-testid={`wizard-bits-${b}`}
                    >
                      {b}
                    </Button>
                  ))}
                </Space.Compact>
              </Form.Item>
            </Form>
            <Button
              type="primary"
              icon={<KeyOutlined />}
              loading={busy === 'generate'}
              onClick={() => void generate()}
              data-testid="wizard-generate"
              autoFocus
            >
              {t('wizard.generate')}
            </Button>
          </div>
        ) : (
          <div>
            <Typography.Paragraph>{instructions}</Typography.Paragraph>
            <Form layout="vertical" component="div">
              <ImportFields
                purpose={purpose}
                values={values}
                errors={fieldErrors}
                prefix="wizard"
                onChange={(name, value) => setValues((prev) => ({ ...prev, [name]: value }))}
              />
            </Form>
            <Button
              type="primary"
              loading={busy === 'import'}
              onClick={() => void importNew()}
              data-testid="wizard-import"
            >
              {t('wizard.import')}
            </Button>
          </div>
        )
      ) : (
        <Alert
          type="success"
          showIcon
          data-testid="wizard-version"
          data-version={version}
          message={t(mode === 'generate' ? 'wizard.generated' : 'wizard.imported', { version })}
          description={
            fingerprint && (
              <span>
                {t('versions.fingerprint')}: <code>{fingerprint}</code>
              </span>
            )
          }
        />
      )}

      {/* 2. public key for the provider console */}
      {exported && (
        <>
          <Divider orientation="left">{t('wizard.step.public_key')}</Divider>
          <Typography.Paragraph>{instructions}</Typography.Paragraph>
          <Tabs
            activeKey={tab}
            onChange={(k) => setTab(k as 'pem' | 'base64')}
            size="small"
            items={[
              {
                key: 'pem',
                label: t('wizard.tab_pem'),
                children: (
                  <pre style={mono} data-testid="wizard-public-key">
                    {exported.public_key_pem}
                  </pre>
                ),
              },
              {
                key: 'base64',
                label: t('wizard.tab_base64'),
                children: (
                  <pre style={mono} data-testid="wizard-public-key-base64">
                    {exported.public_key_base64}
                  </pre>
                ),
              },
            ]}
          />
          <Space wrap style={{ marginTop: 8 }}>
            <Button icon={<CopyOutlined />} onClick={() => void copy()} data-testid="wizard-copy">
              {tab === 'pem' ? t('wizard.copy_pem') : t('wizard.copy_base64')}
            </Button>
            {endpoint === 'sandbox' && (
              <Button
                icon={<CloudUploadOutlined />}
                loading={busy === 'upload'}
                disabled={uploaded}
                onClick={() => void upload()}
                data-testid="wizard-upload-sandbox"
              >
                {uploaded ? t('wizard.uploaded') : t('wizard.upload_sandbox')}
              </Button>
            )}
            {uploaded && <Tag color="green">{t('wizard.uploaded')}</Tag>}
          </Space>
        </>
      )}

      {/* 3. test */}
      {version !== null && (
        <>
          <Divider orientation="left">{t('wizard.step.test')}</Divider>
          <Typography.Paragraph type="secondary">
            {mode === 'generate' ? t('wizard.test_help_upload') : t('wizard.test_help')}
          </Typography.Paragraph>
          <Space align="start" wrap>
            <Button
              icon={<ExperimentOutlined />}
              loading={busy === 'test'}
              onClick={() => void runTest()}
              data-testid="wizard-test"
              type={test?.ok ? 'default' : 'primary'}
            >
              {test && !test.ok ? t('wizard.test_again') : t('wizard.test')}
            </Button>
          </Space>
          {test && (
            <Alert
              style={{ marginTop: 8 }}
              type={test.ok ? 'success' : 'error'}
              showIcon
              data-testid="wizard-test-result"
              data-ok={String(test.ok)}
              message={test.ok ? t('wizard.test_ok', { outcome: test.text }) : t('wizard.test_failed')}
              description={test.ok ? undefined : test.text}
            />
          )}
        </>
      )}

      {/* 4. activate */}
      {version !== null && test?.ok && !finished && (
        <>
          <Divider orientation="left">{t('wizard.step.activate')}</Divider>
          <Typography.Paragraph>{t('wizard.activate_help')}</Typography.Paragraph>
          <Space wrap>
            <span>{t('wizard.grace')}</span>
            <InputNumber
              min={0}
              max={720}
              precision={0}
              value={grace}
              onChange={(v) => setGrace(v)}
              data-testid="wizard-grace"
              addonAfter={t('wizard.hours')}
            />
            <Button
              type="primary"
              danger
              loading={busy === 'activate'}
              onClick={() => void activate()}
              data-testid="wizard-activate"
            >
              {t('wizard.activate')}
            </Button>
          </Space>
        </>
      )}

      <ErrorAlert error={error} style={{ marginTop: 12 }} data-testid="wizard-error" />

      {finished && (
        <div data-testid="wizard-done" data-version={version ?? undefined}>
          <Result
            status="success"
            title={t('wizard.done_title', { version })}
            subTitle={
              activated
                ? (grace ?? 0) > 0
                  ? t('wizard.done_grace', { hours: grace })
                  : t('wizard.done_no_grace')
                : t('wizard.done_first')
            }
          />
        </div>
      )}
    </Modal>
  );
}
