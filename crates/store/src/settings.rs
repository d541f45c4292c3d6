//! Installation settings kept with the data (see migration m0005).

use crate::crypto::FieldCipher;
use crate::entity::setting;
use crate::{Error, Result};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};

const KEY_CHECK: &str = "data_key_check";
const KEY_CHECK_PLAIN: &str = "Trường Số";

/// Verifies that `cipher` is the key this database's sensitive fields were written with. The
/// first call on a database records a check value; later calls must decrypt it. Returns whether
/// the check value was created now.
pub async fn verify_data_key<C: ConnectionTrait>(db: &C, cipher: &FieldCipher) -> Result<bool> {
    let context = format!("settings.value:{KEY_CHECK}");
    match setting::Entity::find_by_id(KEY_CHECK.to_string()).one(db).await? {
        Some(s) => match cipher.decrypt(&context, &s.value) {
            Ok(v) if v == KEY_CHECK_PLAIN => Ok(false),
            _ => Err(Error::Internal(
                "the data key does not match this database (khóa mã hóa dữ liệu không khớp)".into(),
            )),
        },
        None => {
            setting::ActiveModel {
                key: Set(KEY_CHECK.into()),
                value: Set(cipher.encrypt(&context, KEY_CHECK_PLAIN)),
            }
            .insert(db)
            .await?;
            Ok(true)
        }
    }
}
